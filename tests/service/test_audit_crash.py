"""Crash test of the audit trail: ``hepatorisk serve`` killed with SIGKILL under concurrent load,
on SQLite and on PostgreSQL (a real server started by the tests; there it is crashed too, by an
immediate shutdown at the same moment, and recovers from its WAL before the rows are read).

Every assessment the server acknowledged with a 200 must be in the audit database after the
crash, complete: its request id (the body's and the ``X-Request-ID`` header's), the versions
of both models that answered, the keyed hash of its canonical input and of the patient
reference and the probabilities it returned. Requests in flight at the kill may or may not have
a row; none may be half-written (SQLite passes ``PRAGMA integrity_check``; PostgreSQL
recovers).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_support import Postgres, postgres
from server_support import free_port, wait_server_ready
from service_support import API_TOKEN, patient
from sqlalchemy import create_engine, text

from hepatorisk.assessment.request import AssessRequest

__all__ = ["postgres"]

WORKERS = 4
ACKNOWLEDGED_BEFORE_KILL = 60  # 200s received, across the workers, before the SIGKILL
PER_WORKER_LIMIT = 2_000  # bounds each worker's loop (the kill ends it long before)
LOAD_DEADLINE_S = 120.0
SALT = "crash-test-identifier-salt-5e8a1f3c9d27"
SERVED_VERSIONS = {
    "liver": "hepatorisk-liver:1@champion",  # the exported test models (service_support)
    "relapse": "hepatorisk-relapse:1@champion",
}


@dataclass
class Worker:
    """One client thread's record: what it sent, what came back, how it ended."""

    index: int
    acknowledged: list[tuple[dict[str, Any], httpx.Response]] = field(default_factory=list)
    refused: list[httpx.Response] = field(default_factory=list)
    ended_by: str = "still running"


def _body(worker: int, i: int) -> dict[str, Any]:
    """A different patient per request (the dose is unique), so each row has its own hash."""
    dose = 1.0 + (worker * PER_WORKER_LIMIT + i) / 1000
    return patient(
        patient_ref=f"CRASH-{worker}-{i}",
        demographics={"age": 18 + i % 70, "sex": ("male", "female")[i % 2]},
        kratom={"product": "leaf_powder", "dose_g_day": dose, "mitragynine_mg_per_g": 1.5},
    )


def _load(base: str, worker: Worker, stop: threading.Event) -> None:
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
        for i in range(PER_WORKER_LIMIT):
            if stop.is_set():
                worker.ended_by = "stopped"
                return
            body = _body(worker.index, i)
            try:
                r = c.post("/v1/assess", json=body)
            except httpx.TransportError as exc:
                worker.ended_by = f"transport error: {type(exc).__name__}"
                return
            (worker.acknowledged if r.status_code == 200 else worker.refused).append((body, r))
    worker.ended_by = "limit"


def _audit_rows(db: Path) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The integrity check's answer and the assessment rows by request id, read with sqlite3."""
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        rows: dict[str, list[dict[str, Any]]] = {}
        for row in con.execute("SELECT * FROM assessments ORDER BY request_id, item"):
            rows.setdefault(row["request_id"], []).append(dict(row))
    finally:
        con.close()
    return integrity, rows


def _postgres_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            result = conn.execute(text("SELECT * FROM assessments ORDER BY request_id, item"))
            rows: dict[str, list[dict[str, Any]]] = {}
            for row in result.mappings():
                rows.setdefault(row["request_id"], []).append(dict(row))
    finally:
        engine.dispose()
    return rows


def _json(value: Any) -> Any:
    """JSON columns: text in SQLite, already decoded by psycopg."""
    return json.loads(value) if isinstance(value, str) else value


def _canonical_hmac(body: dict[str, Any]) -> str:
    """What the audit promises to store: HMAC of the validated input's canonical JSON."""
    validated = AssessRequest.model_validate(body).model_dump(mode="json", exclude={"patient_ref"})
    text = json.dumps(validated, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(SALT.encode(), text.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_every_acknowledged_assessment_is_audited_after_sigkill(
    model_dirs: dict[str, Path], tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp_path / "audit.db"
    pg: Postgres | None = None
    url = f"sqlite:///{db}"
    if backend == "postgresql":
        pg = request.getfixturevalue("postgres")
        url = pg.create_database("crash")
    log = tmp_path / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEPATORISK_", "MLFLOW_"))}
    env |= {
        "HEPATORISK_AUDIT_DB_URL": url,
        "HEPATORISK_API_TOKENS": json.dumps([{"caller": "crash-test", "token": API_TOKEN}]),
        "HEPATORISK_IDENTIFIER_SALT": SALT,
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "hepatorisk", "serve", "--port", str(port),
           "--liver-model", str(model_dirs["liver"]),
           "--relapse-model", str(model_dirs["relapse"])]  # fmt: skip
    workers = [Worker(i) for i in range(WORKERS)]
    stop = threading.Event()
    threads: list[threading.Thread] = []
    with log.open("wb") as out:
        # cwd: serve's embedded MLflow store (mlflow.db) goes to the test's folder, not the repo
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_server_ready(base, proc, log)
            threads = [
                threading.Thread(target=_load, args=(base, w, stop), daemon=True) for w in workers
            ]
            for t in threads:
                t.start()
            deadline = time.monotonic() + LOAD_DEADLINE_S
            while sum(len(w.acknowledged) for w in workers) < ACKNOWLEDGED_BEFORE_KILL:
                assert time.monotonic() < deadline, "the server did not answer enough requests"
                assert all(t.is_alive() for t in threads), [w.ended_by for w in workers]
                time.sleep(0.005)
            proc.send_signal(signal.SIGKILL)  # a crash in the middle of the load
            if pg is not None:
                pg.stop("immediate")  # the database crashes too: no clean shutdown, no flush
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            stop.set()
            proc.kill()
            proc.wait(timeout=30)
            for t in threads:
                t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    # the kill hit the server under load: every worker lost its connection, none ran out
    assert all(w.ended_by.startswith("transport error") for w in workers), [
        w.ended_by for w in workers
    ]
    refused = [(r.status_code, r.text[:200]) for w in workers for _, r in w.refused]
    assert refused == []
    acknowledged = [pair for w in workers for pair in w.acknowledged]
    assert len(acknowledged) >= ACKNOWLEDGED_BEFORE_KILL

    if pg is None:
        integrity, rows = _audit_rows(db)
        assert integrity == "ok"
    else:
        pg.start()  # crash recovery replays the WAL: what was committed is there
        rows = _postgres_rows(url)
    missing = []
    for body, r in acknowledged:
        out = r.json()
        rid = out["request_id"]
        assert r.headers["x-request-id"] == rid
        if rid not in rows:
            missing.append(rid)
            continue
        [row] = rows[rid]  # one patient, one row
        assert row["item"] == 0
        assert row["endpoint"] == "assess"
        assert row["caller"] == "crash-test"
        answered = {k["outcome"]: k["model"] for k in out["risks"]}
        versions = {o: f"{m['name']}:{m['version']}@{m['alias']}" for o, m in answered.items()}
        assert versions == SERVED_VERSIONS
        assert _json(row["models"]) == versions
        assert row["input_hmac"] == _canonical_hmac(body)
        ref = body["patient_ref"].encode()
        assert row["patient_ref_hmac"] == hmac.new(SALT.encode(), ref, hashlib.sha256).hexdigest()
        outputs = _json(row["outputs"])
        for risk in out["risks"]:
            assert outputs[risk["outcome"]]["probability"] == risk["probability"]
            assert outputs[risk["outcome"]]["model"] == risk["model"]["version"]
    assert missing == [], f"{len(missing)} acknowledged assessments lost in the crash"
    # distinct inputs, distinct hashes: the rows are not one row repeated
    assert len({rows[r.json()["request_id"]][0]["input_hmac"] for _, r in acknowledged}) == len(
        acknowledged
    )
