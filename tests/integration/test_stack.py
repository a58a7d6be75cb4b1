"""The production stack of serve/docker-compose.yml, run natively (no container daemon here):
PostgreSQL from the Debian package (the service tests' throwaway cluster) holds the MLflow
backend store and the audit; then each compose service's own command, environment and health
check, read from ``docker-compose config``: ``mlflow server`` (artifacts served by it),
``audit-migrate`` (``hepatorisk db upgrade``), the ``train`` job (generate, train, promote),
the ``report`` job, ``hepatorisk export`` (as ``make demo``) and the ``api``; then assessments
from concurrent clients, every one found in PostgreSQL.

A small cohort (COHORT_PATIENTS=2000) keeps it to minutes. Timings and the rows sent and stored
are printed (``pytest -s``) and written to the pytest temporary folder's ``stack.json``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
import mlflow.artifacts
import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from compose_support import REPO, Host, compose_config
from mlflow.models import Model
from postgres_support import Postgres, wait_for
from server_support import free_port, wait_server_ready
from service_support import API_TOKEN, SALT, patient
from sqlalchemy import create_engine, text

from hepatorisk.assessment import audit_migrations
from hepatorisk.assessment.audit import metadata
from hepatorisk.training.steps.registration import signature_frame

pytestmark = pytest.mark.slow

PATIENTS = 2000
REQUESTS, CLIENTS = 200, 8
CALLER = "stack-test"
# 2,000 patients cannot clear the production gate (per-landmark calibration slopes and subgroup
# floors fail on so few events, measured): the test checks the plumbing, not the model, so it
# opens the gate and skips the slow extras through the compose file's TRAIN_OPTIONS
SMALL_COHORT_OPTIONS = (
    "gate.min_auroc=0.5",
    "gate.calibration_slope=[0.05,20]",
    "gate.subgroup_auroc_floor=0",
    "gate.landmark_min_auroc=0.5",
    "gate.landmark_calibration_slope=[0.05,20]",
    "gate.landmark_min_auroc_vs_oracle=0",
    "landmarks.compare_designs=false",
    "landmarks.oracle=false",
)
# made by `make wheelhouse` before the tests (the package index is reached there, never here)
WHEELHOUSE, DIST = REPO / "work" / "wheelhouse", REPO / "work" / "dist"
DEV_TOOLS = ("pytest", "ruff", "mypy", "schemathesis", "hypothesis", "import-linter")


@dataclass
class Stack:
    folder: Path
    config: dict[str, Any]
    host: Host
    postgres: Postgres
    app: Path  # the jobs' working directory (the image's /app)
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    procs: list[subprocess.Popen[str]] = field(default_factory=list)
    logs: list[TextIO] = field(default_factory=list)

    def service(self, name: str) -> dict[str, Any]:
        service: dict[str, Any] = self.config["services"][name]
        return service

    def env(self, name: str) -> dict[str, str]:
        return self.host.environment(self.service(name))

    def url(self, name: str) -> str:
        return self.env(name)["HEPATORISK_AUDIT_DB_URL"]

    def run(self, step: str, args: list[str], env: dict[str, str], timeout: float) -> str:
        started = time.monotonic()
        done = subprocess.run(
            args, env=env, cwd=self.app, capture_output=True, text=True, timeout=timeout,
            check=False,
        )  # fmt: skip
        self.seconds[step] = round(time.monotonic() - started, 1)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{step} failed ({done.returncode}):\n{output[-4000:]}"
        self.outputs[step] = output
        return output

    def job(self, name: str, timeout: float) -> str:
        """A one-shot compose service: its command, its environment, in the jobs' folder."""
        service = self.service(name)
        return self.run(name, self.host.command(service["command"]), self.env(name), timeout)

    def start(self, name: str) -> subprocess.Popen[str]:
        """A long-running compose service, its log in ``<name>.log``."""
        log = (self.folder / f"{name}.log").open("w")
        self.logs.append(log)
        proc = subprocess.Popen(
            self.host.command(self.service(name)["command"]), env=self.env(name), cwd=self.app,
            stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.procs.append(proc)
        return proc

    def healthy(self, name: str, proc: subprocess.Popen[str] | None, seconds: float) -> None:
        """Wait until the service's own compose health check passes."""
        check = self.host.healthcheck(self.service(name))
        started = time.monotonic()

        def passes() -> bool:
            if proc is not None and proc.poll() is not None:
                log = (self.folder / f"{name}.log").read_text()[-4000:]
                raise AssertionError(f"{name} exited ({proc.returncode}):\n{log}")
            env = self.env(name)
            return subprocess.run(check, env=env, capture_output=True, timeout=30).returncode == 0

        try:
            wait_for(passes, seconds, step=1.0)
        except AssertionError as exc:
            log = self.folder / f"{name}.log"
            tail = log.read_text()[-4000:] if log.exists() else ""
            raise AssertionError(
                f"{name}: health check {check} never passed ({exc})\n{tail}"
            ) from None
        self.seconds[f"{name} healthy"] = round(time.monotonic() - started, 1)


def _env_file(folder: Path) -> Path:
    """The stack's settings, as an operator's serve/.env: fresh database passwords, the tests'
    salt and token, a small cohort, models reloaded only on request."""
    values = {
        "AUDIT_DB_PASSWORD": secrets.token_hex(16),
        "MLFLOW_DB_PASSWORD": secrets.token_hex(16),
        "HEPATORISK_IDENTIFIER_SALT": SALT,
        "HEPATORISK_API_TOKENS": json.dumps([{"caller": CALLER, "token": API_TOKEN}]),
        "HEPATORISK_RELOAD_POLL_SECONDS": "0",
        "COHORT_PATIENTS": str(PATIENTS),
        "TRAIN_OPTIONS": " ".join(f"--set {o}" for o in SMALL_COHORT_OPTIONS),
    }
    path = folder / "stack.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


@pytest.fixture(scope="module")
def stack(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("stack")
    config = compose_config(_env_file(folder))
    host = Host(postgres.port, free_port(), free_port(), folder / "mlartifacts")
    app = folder / "app"
    app.mkdir()
    (app / "pipelines").symlink_to(REPO / "pipelines")  # the image's /app/pipelines
    s = Stack(folder, config, host, postgres, app)
    try:
        # the two PostgreSQL services: the user, password and database they would create
        for name in ("audit-db", "mlflow-db"):
            e = s.service(name)["environment"]
            user, password = e["POSTGRES_USER"], e["POSTGRES_PASSWORD"]
            postgres.psql(f"CREATE ROLE {user} LOGIN PASSWORD '{password}'")
            postgres.create_database_owned(e["POSTGRES_DB"], e["POSTGRES_USER"])
            s.healthy(name, None, 30)
        mlflow = s.start("mlflow")
        s.healthy("mlflow", mlflow, 240)
        s.job("audit-migrate", 300)
        s.job("train", 1800)
        s.job("report", 900)
        tracking = {"MLFLOW_TRACKING_URI": s.env("train")["MLFLOW_TRACKING_URI"]}
        for outcome in ("liver", "relapse"):  # as `make demo` does
            s.run(f"export {outcome}", ["hepatorisk", "export",
                  f"models:/hepatorisk-{outcome}@champion", "--out",
                  str(folder / "exported" / outcome)], s.env("train") | tracking, 600)  # fmt: skip
        api = s.start("api")
        s.healthy("api", api, 300)
        yield s
    finally:
        for proc in reversed(s.procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)
        for log in s.logs:
            log.close()
        summary = {
            "seconds": s.seconds,
            "rows": s.outputs.get("rows", ""),
            "fresh_env_max_abs_difference": s.outputs.get("fresh_env_max_abs_difference", ""),
        }
        (folder / "stack.json").write_text(json.dumps(summary, indent=2))
        print(f"\nstack: {json.dumps(summary)}")  # noqa: T201


def test_mlflow_server_accepts_the_compose_host_and_refuses_others(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.host.mlflow_port}"
    path = "/api/2.0/mlflow/registered-models/search"
    ok = httpx.get(base + path, headers={"Host": "mlflow:5000"}, timeout=30)
    assert ok.status_code == 200, ok.text  # the API's and the job's address in compose
    names = {m["name"] for m in ok.json()["registered_models"]}
    assert {"hepatorisk-liver", "hepatorisk-relapse"} <= names
    refused = httpx.get(base + path, headers={"Host": "evil.example"}, timeout=30)
    assert refused.status_code == 403  # DNS rebinding protection kept, not disabled


def test_tracking_lives_in_postgres_and_artifacts_behind_the_server(stack: Stack) -> None:
    mlflow_db = stack.service("mlflow-db")["environment"]["POSTGRES_DB"]
    runs = stack.postgres.psql("SELECT count(*) FROM runs", mlflow_db)
    assert int(runs) >= 2
    roots = stack.postgres.psql("SELECT DISTINCT artifact_uri FROM runs", mlflow_db).split()
    assert roots and all(r.startswith("mlflow-artifacts:/") for r in roots), roots
    logged = list(stack.host.artifacts.rglob("MLmodel"))
    assert len(logged) >= 2  # written by the server to its --artifacts-destination
    # the model carries its code and pins, never hepatorisk itself (no index holds it)
    model = logged[0].parent
    assert (model / "code" / "hepatorisk" / "modeling" / "pyfunc.py").is_file()
    requirements = (model / "requirements.txt").read_text()
    assert "lightgbm==" in requirements and "hepatorisk" not in requirements


def test_audit_schema_was_migrated_by_the_compose_job(stack: Stack) -> None:
    assert "schema revision none -> 0001" in stack.outputs["audit-migrate"]
    engine = create_engine(stack.url("api"))
    with engine.connect() as conn:
        version = conn.execute(text(f"SELECT version_num FROM {audit_migrations.VERSION_TABLE}"))
        assert [r[0] for r in version] == [audit_migrations.head()]
        context = MigrationContext.configure(
            conn, opts={"version_table": audit_migrations.VERSION_TABLE}
        )
        assert compare_metadata(context, metadata) == []  # the PostgreSQL tables are the code's
    engine.dispose()


def test_jobs_produced_champions_reports_and_exports(stack: Stack) -> None:
    for outcome in ("liver", "relapse"):
        assert f"hepatorisk-{outcome} version 1: promoted to champion" in stack.outputs["train"]
        reports = stack.app / "work" / "reports" / outcome
        for name in ("report.html", "report.pdf", "report.json"):
            assert (reports / name).stat().st_size > 1000, reports / name
        exported = stack.folder / "exported" / outcome
        assert (exported / "MLmodel").is_file() and (exported / "code" / "hepatorisk").is_dir()


def test_assessments_from_concurrent_clients_are_all_in_postgres(stack: Stack) -> None:
    base = f"http://127.0.0.1:{stack.host.api_port}"
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    models = httpx.get(f"{base}/v1/models", headers=auth, timeout=30).json()
    assert "hepatorisk-liver" in json.dumps(models)

    def assess(i: int) -> tuple[int, str]:
        body = patient(patient_ref=f"MRN-STACK-{i:04d}")
        r = httpx.post(f"{base}/v1/assess", json=body, headers=auth, timeout=120)
        return r.status_code, r.headers.get("X-Request-ID", "")

    started = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(assess, range(REQUESTS)))
    stack.seconds["assess"] = round(time.monotonic() - started, 1)
    assert [code for code, _ in answers] == [200] * REQUESTS
    sent = {rid for _, rid in answers}
    engine = create_engine(stack.url("api"))
    with engine.connect() as conn:
        stored = {
            r[0]
            for r in conn.execute(
                text("SELECT request_id FROM assessments WHERE caller = :c"), {"c": CALLER}
            )
        }
        planted = conn.execute(
            text("SELECT count(*) FROM assessments WHERE patient_ref_hmac LIKE 'MRN%'")
        ).scalar()
    engine.dispose()
    stack.outputs["rows"] = f"sent {len(sent)}, stored {len(stored)} ({CLIENTS} clients)"
    print(f"\naudit rows: {stack.outputs['rows']}")  # noqa: T201
    assert len(sent) == REQUESTS and stored == sent
    assert planted == 0  # references stored only as keyed hashes


def _offline(env: dict[str, str]) -> dict[str, str]:
    """pip with no configuration file (this machine's indexes ignored), no index: the
    wheelhouse only."""
    if not (WHEELHOUSE / ".complete").is_file() or not list(DIST.glob("hepatorisk-*.whl")):
        pytest.fail(
            f"{WHEELHOUSE} or {DIST} is missing: run `make wheelhouse` first (make test does)",
            pytrace=False,
        )
    return env | {
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(WHEELHOUSE),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_COMPILE": "1",  # no bytecode compiled at install time (faster; same code)
    }


def test_registered_model_served_from_a_fresh_virtualenv_agrees_with_predict(
    stack: Stack, tmp_path: Path
) -> None:
    """``mlflow models serve --env-manager virtualenv`` of the registered champion builds a new
    environment from the model's own requirements and code (pip from the wheelhouse only, no
    checkout on its path) and answers what ``hepatorisk predict`` answers, to 1e-9."""
    uri = "models:/hepatorisk-liver@champion"
    tracking = stack.env("train")
    # the champion's own records (entry and history by each landmark), as its run logged them
    run_id = json.loads((stack.folder / "exported" / "liver" / "registration.json").read_text())
    logged = mlflow.artifacts.download_artifacts(
        artifact_uri=f"runs:/{run_id['run_id']}/evaluation/records.parquet",
        dst_path=str(tmp_path / "run"),
        tracking_uri=tracking["MLFLOW_TRACKING_URI"],
    )
    patients = pd.read_parquet(logged).head(300)
    source = tmp_path / "records.parquet"
    patients.to_parquet(source)
    stack.run("predict", ["hepatorisk", "predict", uri, "--input", str(source), "--out",
              str(tmp_path / "predicted.parquet")], tracking, 600)  # fmt: skip
    expected = pd.read_parquet(tmp_path / "predicted.parquet")["probability"].to_numpy()

    columns = Model.load(str(stack.folder / "exported" / "liver")).signature.inputs.input_names()
    records = json.loads(signature_frame(patients[columns]).to_json(orient="split", index=False))
    port = free_port()
    env = _offline(tracking) | {
        "MLFLOW_ENV_ROOT": str(tmp_path / "envs"),
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }
    log = (tmp_path / "models-serve.log").open("w")
    stack.logs.append(log)
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "mlflow"), "models", "serve", "-m", uri,
         "--env-manager", "virtualenv", "-h", "127.0.0.1", "-p", str(port)],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:

        def up() -> bool:
            assert proc.poll() is None, (tmp_path / "models-serve.log").read_text()[-4000:]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/ping", timeout=5).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, 1500, step=2.0)
        stack.seconds["fresh virtualenv + mlflow models serve"] = round(
            time.monotonic() - started, 1
        )
        r = httpx.post(f"http://127.0.0.1:{port}/invocations",
                       json={"dataframe_split": records}, timeout=300)  # fmt: skip
        assert r.status_code == 200, r.text[:2000]
        served = pd.DataFrame(r.json()["predictions"])["probability"].to_numpy()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    [venv] = [p for p in (tmp_path / "envs").iterdir() if (p / "bin" / "python").exists()]
    # the environment holds the model's pins but not hepatorisk: its code came with the model
    listed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "list", "--format=json"],
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    installed = {p["name"].lower() for p in json.loads(listed)}
    assert "lightgbm" in installed and "hepatorisk" not in installed
    gap = float(abs(served - expected).max())
    stack.outputs["fresh_env_max_abs_difference"] = repr(gap)
    print(f"\nmlflow models serve (fresh virtualenv) vs hepatorisk predict: max |diff| {gap:.3g}")  # noqa: T201
    assert len(served) == len(expected) == 300
    assert gap <= 1e-9


def test_built_wheel_in_a_fresh_venv_serves_with_the_runtime_lock_only(
    stack: Stack, tmp_path: Path
) -> None:
    """The wheel (``make wheelhouse`` builds it) and requirements.lock, nothing else, in a new
    venv: no test or lint tool installed, ``pip check`` clean, ``hepatorisk serve`` answers an
    assessment, audited in the stack's PostgreSQL."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--quiet"]
    env = _offline(stack.env("api"))
    [wheel] = DIST.glob("hepatorisk-*.whl")
    stack.run("venv: runtime lock", [*pip, "install", "--require-hashes", "-r",
              str(REPO / "requirements.lock")], env, 1200)  # fmt: skip
    stack.run("venv: wheel", [*pip, "install", "--no-deps", str(wheel)], env, 300)
    stack.run("venv: pip check", [*pip, "check"], env, 300)
    # without --quiet: pip list writes nothing with it
    listed = subprocess.run([*pip[:-1], "list", "--format=json"], capture_output=True,
                            text=True, check=True, env=env).stdout  # fmt: skip
    installed = {p["name"].lower() for p in json.loads(listed)}
    assert "hepatorisk" in installed and not installed & set(DEV_TOOLS), installed & set(DEV_TOOLS)

    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    stack.logs.append(log)
    proc = subprocess.Popen(
        [str(venv / "bin" / "hepatorisk"), "serve", "--host", "127.0.0.1", "--port", str(port),
         "--liver-model", str(stack.folder / "exported" / "liver"),
         "--relapse-model", str(stack.folder / "exported" / "relapse")],
        env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_server_ready(f"http://127.0.0.1:{port}", proc, tmp_path / "serve.log", 300)
        r = httpx.post(f"http://127.0.0.1:{port}/v1/assess", json=patient(),
                       headers={"Authorization": f"Bearer {API_TOKEN}"}, timeout=120)  # fmt: skip
        assert r.status_code == 200, r.text[:2000]
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    engine = create_engine(stack.url("api"))
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT count(*) FROM assessments WHERE request_id = :r"),
            {"r": r.headers["X-Request-ID"]},
        ).scalar()
    engine.dispose()
    assert found == 1
