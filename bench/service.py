"""Service benchmark: hepatorisk's API against its peer ``mlflow models serve``, same run.

Both serve the models the synthetic pipelines train (``pipelines/*_synthetic.yaml``), on the
committed sample (``bench/models.py``: landmark models, the 10-member uncertainty ensemble, the
low/high scenario models), and every request is the README's mid-treatment example (a course of
visits, labs over time, unknown fields), so every capability on by default does its work.
Load comes from ``wrk`` (C, one thread, so
the load generator takes little of the 2 cores from the servers): one connection for sequential
latency, 8 connections for throughput. Measured in the same run:

* the peer, ``mlflow models serve`` /invocations: one model, a bare prediction;
* the second peer, MLServer 1.7.1 with its LightGBM runtime (its own virtualenv from
  ``bench/peers/mlserver.lock``, made on first use), serving the same liver booster on one
  worker, V2 inference protocol, the record as a raw numeric tensor: no validation, no
  calibration, no audit;
* the framework floor: the service's own stack (FastAPI on uvicorn) with one route that parses
  the body and answers a constant (``bench/peers/floor.py``);
* hepatorisk /v1/assess (both models, exact SHAP drivers, guideline rules, dose what-ifs, an
  audit row committed before the answer) and /v1/predict (both calibrated risks, audited), with
  one worker and with two (``hepatorisk serve --workers 2``);
* /v1/assess/batch with 1,000 explained patients per call (patients per second).

Run: ``make bench-service`` (installs Debian's ``wrk`` when missing). Results:
``bench/results/service.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from models import pipeline_models  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PEERS = ROOT / "bench" / "peers"
MODEL_CODE = ROOT / "src" / "hepatorisk" / "modeling" / "mlflow_model.py"
TOKEN = "bench-token-0123456789abcdef"
SECONDS = int(os.environ.get("BENCH_SECONDS", "8"))
TARGETS = {  # issue 5
    "assess_vs_peer": 10.0,
    "predict_vs_peer": 20.0,
    "assess_sequential_p50_ms": 3.0,
    "batch_patients_per_s": 10_000.0,
}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(
    cmd: list[str], env: dict[str, str], url: str, ready_in_a_row: int = 1
) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline, ready = time.monotonic() + 180, 0
    while time.monotonic() < deadline and ready < ready_in_a_row:
        try:
            ready = ready + 1 if httpx.get(url, timeout=1).status_code == 200 else 0
        except httpx.TransportError:
            time.sleep(0.2)
    if ready < ready_in_a_row:
        _stop(proc)
        raise SystemExit(f"server did not start: {' '.join(cmd)}")
    return proc


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # the whole group: mlflow and uvicorn leave children
    proc.wait(30)


def _wrk(url: str, body: dict, headers: dict[str, str], connections: int, tmp: Path) -> dict:
    """Requests/s and latency percentiles of POSTing ``body``; any non-2xx answer aborts."""
    payload = tmp / "body.json"
    payload.write_text(json.dumps(body))
    script = tmp / "post.lua"
    lines = ['wrk.method = "POST"', f'wrk.body = io.open("{payload}"):read("*a")',
             'wrk.headers["Content-Type"] = "application/json"']  # fmt: skip
    lines += [f'wrk.headers["{k}"] = "{v}"' for k, v in headers.items()]
    script.write_text("\n".join(lines) + "\n")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s", "--latency", "-s", str(script), url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise SystemExit(f"errors under load at {url}:\n{out}")
    latency = {
        p: _ms(v, unit) for p, v, unit in re.findall(r"\s(50|90|99)%\s+([\d.]+)(us|ms|s)\b", out)
    }
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50_ms": latency["50"],
        "p99_ms": latency["99"],
    }


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def _measure(url: str, body: dict, headers: dict[str, str], tmp: Path) -> dict:
    return {"sequential": _wrk(url, body, headers, 1, tmp),
            "concurrent8": _wrk(url, body, headers, 8, tmp)}  # fmt: skip


def _models(tmp: Path) -> dict[str, Path]:
    """Both models as the synthetic pipelines train them (``bench/models.py``: landmarks, the
    uncertainty ensemble, the scenario models), exported; ``tmp`` is not used (kept cached)."""
    return pipeline_models()


def _bundle_dir(exported: Path) -> Path:
    """The bundle folder inside an exported model (``hepatorisk export``)."""
    inside = exported / "artifacts" / "bundle"
    return inside if inside.is_dir() else exported


def body() -> dict:
    """The README's mid-treatment request (a course of visits, labs over time, unknown
    fields): every capability that is on by default has work to do (issue 20)."""
    return json.loads((ROOT / "examples" / "assess_mid_treatment.json").read_text())


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: `make bench-service` installs it (Debian package wrk)")
    import mlflow.pyfunc
    import pandas as pd

    from hepatorisk.assessment.inputs import record_columns
    from hepatorisk.assessment.request import AssessRequest

    tmp = Path(tempfile.mkdtemp(prefix="hepatorisk-bench-"))
    dirs = _models(tmp)
    mlflow.pyfunc.save_model(tmp / "pyfunc", python_model=str(MODEL_CODE),
                             artifacts={"bundle": str(_bundle_dir(dirs["liver"]))},
                             pip_requirements=["hepatorisk"])  # fmt: skip
    request = body()
    record = record_columns([AssessRequest.model_validate(request).to_input()])
    row = pd.DataFrame(record).astype(object).where(pd.DataFrame(record).notna(), None)
    mlflow_body = {"dataframe_records": row.to_dict(orient="records")}

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"  # mlflow execs `uvicorn`
    results: dict[str, dict] = {}
    results["MLServer /v2 infer"] = _mlserver(tmp, _bundle_dir(dirs["liver"]), record, env)
    port = _port()
    proc = _start([sys.executable, "-m", "uvicorn", "--app-dir", str(ROOT / "bench" / "peers"),
                   "floor:app", "--host", "127.0.0.1", "--port", str(port), "--log-level",
                   "warning", "--no-access-log"],
                  env, f"http://127.0.0.1:{port}/docs")  # fmt: skip
    try:
        results["framework floor (FastAPI + uvicorn, constant answer)"] = _measure(
            f"http://127.0.0.1:{port}/floor", request, {}, tmp
        )
    finally:
        _stop(proc)

    port = _port()
    proc = _start([str(bin_dir / "mlflow"), "models", "serve", "-m", str(tmp / "pyfunc"),
                   "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                  env, f"http://127.0.0.1:{port}/ping")  # fmt: skip
    try:
        results["mlflow /invocations"] = _measure(
            f"http://127.0.0.1:{port}/invocations", mlflow_body, {}, tmp
        )
    finally:
        _stop(proc)

    env |= {"HEPATORISK_API_TOKENS": json.dumps([{"caller": "bench", "token": TOKEN}]),
            "HEPATORISK_IDENTIFIER_SALT": "bench-identifier-salt-7c3e9a1f5b2d4680"}  # fmt: skip
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for workers in (1, 2):
        port = _port()
        env["HEPATORISK_AUDIT_DB_URL"] = f"sqlite:///{tmp / f'audit-{workers}.db'}"
        proc = _start([sys.executable, "-m", "hepatorisk", "-q", "serve", "--port", str(port),
                       "--workers", str(workers), "--liver-model", str(dirs["liver"]),
                       "--relapse-model", str(dirs["relapse"])],
                      env, f"http://127.0.0.1:{port}/readyz", ready_in_a_row=20)  # fmt: skip
        base = f"http://127.0.0.1:{port}/v1"
        try:
            for path in ("assess", "predict"):
                results[f"hepatorisk /v1/{path} ({workers} worker(s))"] = _measure(
                    f"{base}/{path}", request, auth, tmp
                )
            if workers == 1:
                results["hepatorisk /v1/assess/batch (1,000 explained)"] = _batch(base, auth)
        finally:
            _stop(proc)
    _report(results)


def _mlserver(tmp: Path, bundle_dir: Path, record: dict, env: dict[str, str]) -> dict:
    """MLServer serving the liver booster (uncalibrated, as its runtime loads a bare booster)."""
    from hepatorisk.modeling.bundle import ModelBundle

    venv = ROOT / "work" / "bench-venvs" / "mlserver"
    if not (venv / "bin" / "mlserver").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "--require-hashes",
                        "-r", str(PEERS / "mlserver.lock")], check=True)  # fmt: skip
    bundle = ModelBundle.load(bundle_dir)
    folder = tmp / "mlserver" / "liver"
    folder.mkdir(parents=True)
    bundle.model.booster_.save_model(str(folder / "model.txt"))
    settings = {"name": "liver", "implementation": "mlserver_lightgbm.LightGBMModel",
                "parameters": {"uri": "./model.txt", "version": "1"}}  # fmt: skip
    (folder / "model-settings.json").write_text(json.dumps(settings))
    port = _port()
    # parallel_workers 0: inference in the server process (one worker); MLServer 1.7.1's
    # process pool dies at start on this Python ("There is no current event loop")
    server = {"http_port": port, "grpc_port": _port(), "metrics_port": _port(),
              "parallel_workers": 0}  # fmt: skip
    (folder.parent / "settings.json").write_text(json.dumps(server))
    X = bundle.features.matrix(record)
    data = [None if np.isnan(x) else float(x) for x in X.ravel()]
    body = {"inputs": [{"name": "input-0", "shape": list(X.shape), "datatype": "FP64",
                        "data": data}]}  # fmt: skip
    proc = _start([str(venv / "bin" / "mlserver"), "start", str(folder.parent)], env,
                  f"http://127.0.0.1:{port}/v2/health/ready")  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/v2/models/liver/infer"
        answer = httpx.post(url, json=body, timeout=10).json()["outputs"][0]["data"][0]
        expected = float(bundle.model.booster_.predict(X)[0])
        if abs(answer - expected) > 1e-9:
            raise SystemExit(f"MLServer answered {answer}, the booster {expected}")
        return _measure(url, body, {}, tmp)
    finally:
        _stop(proc)


def _batch(base: str, auth: dict[str, str]) -> dict:
    one = body()
    batch = {"patients": [{**one, "demographics": {**one["demographics"], "age": 18 + i % 60}}
                          for i in range(1000)]}  # fmt: skip
    with httpx.Client(headers=auth, timeout=120) as c:
        c.post(f"{base}/assess/batch", json=batch).raise_for_status()
        t = time.perf_counter()
        for _ in range(5):
            c.post(f"{base}/assess/batch", json=batch).raise_for_status()
        return {"patients_per_s": 5000 / (time.perf_counter() - t)}


def _report(results: dict[str, dict]) -> None:
    for name, r in results.items():
        print(f"{name}: {json.dumps(r)}")
    peer = results["mlflow /invocations"]["concurrent8"]["rps"]
    mlserver = results["MLServer /v2 infer"]["concurrent8"]["rps"]
    floor = results["framework floor (FastAPI + uvicorn, constant answer)"]
    summary = {}
    for workers in (1, 2):
        assess = results[f"hepatorisk /v1/assess ({workers} worker(s))"]
        predict = results[f"hepatorisk /v1/predict ({workers} worker(s))"]
        summary[f"{workers} worker(s)"] = {
            "assess_vs_peer": assess["concurrent8"]["rps"] / peer,
            "predict_vs_peer": predict["concurrent8"]["rps"] / peer,
            "assess_sequential_p50_ms": assess["sequential"]["p50_ms"],
            "predict_vs_mlserver": predict["concurrent8"]["rps"] / mlserver,
            "assess_share_of_floor": assess["concurrent8"]["rps"] / floor["concurrent8"]["rps"],
            "predict_share_of_floor": predict["concurrent8"]["rps"] / floor["concurrent8"]["rps"],
        }
    batch = results["hepatorisk /v1/assess/batch (1,000 explained)"]["patients_per_s"]
    print(f"\nratios against mlflow models serve ({peer:.0f} requests/s under 8 connections):")
    for workers, s in summary.items():
        print(f"  {workers}: /v1/assess x{s['assess_vs_peer']:.1f} "
              f"(target x{TARGETS['assess_vs_peer']:.0f}), /v1/predict x{s['predict_vs_peer']:.1f} "
              f"(target x{TARGETS['predict_vs_peer']:.0f}), sequential /v1/assess p50 "
              f"{s['assess_sequential_p50_ms']:.2f} ms "
              f"(target <= {TARGETS['assess_sequential_p50_ms']:.0f} ms)")  # fmt: skip
    floor_rps, floor_p50 = floor["concurrent8"]["rps"], floor["sequential"]["p50_ms"]
    print(f"against MLServer ({mlserver:.0f} requests/s) and the framework floor "
          f"({floor_rps:.0f} requests/s, p50 {floor_p50:.2f} ms):")  # fmt: skip
    for workers, s in summary.items():
        print(f"  {workers}: /v1/predict x{s['predict_vs_mlserver']:.2f} MLServer; share of the "
              f"floor: /v1/assess {s['assess_share_of_floor']:.0%}, "
              f"/v1/predict {s['predict_share_of_floor']:.0%}")  # fmt: skip
    print(f"  /v1/assess/batch: {batch:,.0f} explained patients/s "
          f"(target >= {TARGETS['batch_patients_per_s']:,.0f})")  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    out = {"results": results, "ratios": summary, "targets": TARGETS}
    (RESULTS / "service.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
