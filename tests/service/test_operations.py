"""Operations under failure: the audit store stops (SQLite locked, PostgreSQL stopped), a commit
fails, several workers share /metrics; security headers and the self-hosted docs.

With the store down, ``/readyz`` answers 503 within 5 s and assessments 503 with Retry-After in
the project's error shape; ``/livez`` stays 200; both recover without a restart when the store
is back. The database password appears in no answer and no log line.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from postgres_support import PASSWORD, Postgres, postgres, wait_for
from server_support import free_port, wait_server_ready
from service_support import ADMIN, API_TOKEN, AUTH, TestClient, patient, running

from hepatorisk.assessment.audit import AuditLog, mask_url, mask_urls
from hepatorisk.settings import Settings
from hepatorisk.web.headers import CONTENT_SECURITY_POLICY

__all__ = ["postgres"]

log = logging.getLogger(__name__)
READY_WITHIN_S = 5.0  # the bound for /readyz to turn 503 once the store stops


def _counter(client: TestClient, name: str, **labels: str) -> float:
    text = client.get("/metrics").text
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _assert_refused(r: httpx.Response) -> None:
    """503, a retry hint, ``{detail, request_id}`` naming the audit store."""
    assert r.status_code == 503, (r.status_code, r.text)
    assert int(r.headers["retry-after"]) > 0
    body = r.json()
    assert set(body) == {"detail", "request_id"}
    assert "audit store" in body["detail"]
    assert body["request_id"] == r.headers["x-request-id"]


def _outage(
    client: TestClient, stop: Any, start: Any, caplog: pytest.LogCaptureFixture
) -> dict[str, float]:
    """Stop the store, measure the time to a 503 readiness, check the answers meanwhile,
    start it again, measure the time to ready; returns the timings."""
    assert client.get("/readyz").status_code == 200
    assert client.post("/v1/assess", json=patient(), headers=AUTH).status_code == 200
    stopped = time.monotonic()
    stop()
    seconds_to_503 = wait_for(lambda: client.get("/readyz").status_code == 503, READY_WITHIN_S)
    ready = client.get("/readyz")
    assert ready.json()["state"] == "audit_unavailable"
    assert ready.json()["error"]
    assert client.get("/livez").status_code == 200
    before = _counter(client, "hepatorisk_audit_failures_total")
    for path, body in (("/v1/assess", patient()), ("/v1/predict", patient())):
        _assert_refused(client.post(path, json=body, headers=AUTH))
    assert _counter(client, "hepatorisk_audit_failures_total") >= before + 2
    # an unauthenticated caller still learns nothing but 401
    assert client.post("/v1/assess", json=patient()).status_code == 401
    outage = time.monotonic() - stopped
    restarted = time.monotonic()
    start()
    seconds_to_ready = wait_for(lambda: client.get("/readyz").status_code == 200, 15)
    r = client.post("/v1/assess", json=patient(), headers=AUTH)
    assert r.status_code == 200, r.text
    assert client.app.state.service.audit.rows(r.json()["request_id"])  # type: ignore[attr-defined]
    return {
        "to_503": seconds_to_503,
        "outage": outage,
        "to_ready": seconds_to_ready,
        "restart_to_ready": time.monotonic() - restarted,
    }


def test_sqlite_locked_readyz_503_assessments_503_then_recovery(
    settings: Settings, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Another process holding SQLite's write lock (a backup, a stuck session) makes the store
    unavailable: nothing could be committed."""
    db = tmp_path / "audit.db"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)

    def lock() -> None:
        holder.execute("BEGIN EXCLUSIVE")

    def unlock() -> None:
        holder.execute("ROLLBACK")

    with running(settings) as c:
        timings = _outage(c, lock, unlock, caplog)
    holder.close()
    assert timings["to_503"] < READY_WITHIN_S
    log.warning("SQLite: 503 after %(to_503).2f s, ready %(to_ready).2f s after unlock", timings)


def test_failed_commit_answers_503_with_retry_after_and_counts(
    settings: Settings, tmp_path: Path
) -> None:
    """The probe still says healthy (its answer is reused for a minute) but the commit raises:
    503 with Retry-After from the handler, never a bare 500; the counter says 'commit'."""
    slow_probe = settings.model_copy(update={"audit_probe_max_age": 60.0})
    db = tmp_path / "audit.db"
    with running(slow_probe) as c:
        assert c.post("/v1/assess", json=patient(), headers=AUTH).status_code == 200
        con = sqlite3.connect(db)
        con.execute("ALTER TABLE assessments RENAME TO assessments_away")
        con.commit()
        try:
            r = c.post("/v1/assess", json=patient(), headers=AUTH)
            _assert_refused(r)
            batch = c.post("/v1/assess/batch", json={"patients": [patient()] * 2}, headers=AUTH)
            _assert_refused(batch)
            assert _counter(c, "hepatorisk_audit_failures_total", stage="commit") == 2.0
        finally:
            con.execute("ALTER TABLE assessments_away RENAME TO assessments")
            con.commit()
            con.close()
        assert c.post("/v1/assess", json=patient(), headers=AUTH).status_code == 200


def test_postgres_stopped_readyz_503_assessments_503_then_recovery(
    postgres: Postgres, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    url = postgres.create_database("outage")
    pg = settings.model_copy(update={"audit_db_url": url})
    caplog.set_level(logging.DEBUG)
    with running(pg) as c:
        timings = _outage(c, postgres.stop, postgres.start, caplog)
        text = c.get("/readyz").text + c.get("/metrics").text
    assert timings["to_503"] < READY_WITHIN_S
    log.warning(
        "PostgreSQL: 503 after %(to_503).2f s, ready %(restart_to_ready).2f s after restart",
        timings,
    )
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "audit store unavailable" in logged  # the outage is logged, once
    assert PASSWORD not in logged + text


def test_postgres_commit_is_durable_and_audited(postgres: Postgres, settings: Settings) -> None:
    url = postgres.create_database("durable")
    with running(settings.model_copy(update={"audit_db_url": url})) as c:
        r = c.post("/v1/assess", json=patient(), headers=AUTH)
        assert r.status_code == 200
        [row] = c.app.state.service.audit.rows(r.json()["request_id"])  # type: ignore[attr-defined]
        assert row["endpoint"] == "assess"
    # what a session of the audit writer commits with (the guarantee of audit.py's docstring)
    log = AuditLog(url, "durability-test-salt-0123456789")
    try:
        with log.engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert conn.exec_driver_sql("SHOW fsync").scalar() == "on"
        assert log.health() is None
    finally:
        log.close()


def test_database_urls_are_masked() -> None:
    url = "postgresql+psycopg://audit:s3cr3t@db.internal:5432/audit"
    assert mask_url(url) == "postgresql+psycopg://audit:***@db.internal:5432/audit"
    assert "s3cr3t" not in mask_url("not a url://audit:s3cr3t@host/x")
    text = 'connection to "postgresql://u:p%40ss@h/db" failed; password=hunter2 host=h'
    masked = mask_urls(text)
    assert "p%40ss" not in masked and "hunter2" not in masked
    assert mask_url("sqlite:///work/audit.db") == "sqlite:///work/audit.db"


def test_security_headers_on_every_answer(client: TestClient) -> None:
    answers = [
        client.get("/livez"),
        client.post("/v1/assess", json=patient(), headers=AUTH),
        client.post("/v1/assess", json=patient()),  # 401
        client.post("/v1/assess", content=b" " * 5_000_000, headers=AUTH),  # 413
        client.get("/no/such/path"),
        client.get("/openapi.json"),
    ]
    for r in answers:
        h = r.headers
        assert h["x-content-type-options"] == "nosniff", r.url
        assert h["x-frame-options"] == "DENY"
        assert h["referrer-policy"] == "no-referrer"
        assert h["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert h["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_docs_are_self_hosted(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert sources and all(s.startswith("/docs-assets/") for s in sources), sources
        assert "<script>" not in r.text  # no inline script: the CSP allows none
        for source in sources:
            asset = client.get(source)
            assert asset.status_code == 200, source
            assert len(asset.content) > 100
            assert asset.headers["cache-control"].startswith("public")
            assert asset.headers["x-content-type-options"] == "nosniff"
    assert client.get("/docs-assets/swagger-ui/LICENSE").status_code == 200
    assert client.get("/docs-assets/redoc/LICENSE").status_code == 200


def test_metrics_can_require_a_token(settings: Settings) -> None:
    guarded = settings.model_copy(
        update={
            "metrics_tokens": Settings.model_validate(
                {"metrics_tokens": [{"caller": "prometheus", "token": "scrape-token-0123456789"}]}
            ).metrics_tokens
        }
    )
    with running(guarded) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers=AUTH).status_code == 401  # an API token is not enough
        r = c.get("/metrics", headers={"Authorization": "Bearer scrape-token-0123456789"})
        assert r.status_code == 200 and "hepatorisk_http_requests_total" in r.text
        assert "process_resident_memory_bytes" in r.text


def test_metrics_sum_over_workers(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    """``serve --workers 2`` with PROMETHEUS_MULTIPROC_DIR: every scrape, whichever worker
    answers it, shows the total of both workers, and each worker's process metrics."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HEPATORISK_", "MLFLOW_"))}
    env |= {
        "HEPATORISK_AUDIT_DB_URL": f"sqlite:///{tmp_path / 'audit.db'}",
        "HEPATORISK_API_TOKENS": json.dumps([{"caller": "workers", "token": API_TOKEN}]),
        "HEPATORISK_IDENTIFIER_SALT": "workers-test-salt-0123456789abcdef",
        "PROMETHEUS_MULTIPROC_DIR": str(multiproc),
        "PYTHONUNBUFFERED": "1",
    }
    cmd = [sys.executable, "-m", "hepatorisk", "serve", "--port", str(port), "--workers", "2",
           "--liver-model", str(model_dirs["liver"]),
           "--relapse-model", str(model_dirs["relapse"])]  # fmt: skip
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_server_ready(base, proc, log)
            # both workers up: each wrote its model-version gauge when its models were set
            wait_for(lambda: len({f.name.rsplit("_", 1)[1] for f in multiproc.glob("*.db")}) == 2,
                     60)  # fmt: skip
            n = 24
            with httpx.Client(base_url=base, headers=AUTH, timeout=30) as c:
                # a new connection per request: the kernel spreads them over both workers
                for _ in range(n):
                    r = httpx.post(f"{base}/v1/assess", json=patient(), headers=AUTH, timeout=30)
                    assert r.status_code == 200, r.text
                pids: set[str] = set()
                for _ in range(6):
                    text = httpx.get(f"{base}/metrics", timeout=30).text
                    line = 'hepatorisk_http_requests_total{method="POST",route="/v1/assess",'
                    assessed = sum(
                        float(ln.rsplit(" ", 1)[1])
                        for ln in text.splitlines()
                        if ln.startswith(line) and 'status="200"' in ln
                    )
                    assert assessed == n, text[:2000]
                    pids |= set(re.findall(r'process_resident_memory_bytes\{pid="(\d+)"}', text))
                    assert 'hepatorisk_model_info{alias="champion"' in text
                assert len(pids) == 2, pids
                assert c.get("/readyz").status_code == 200
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


def test_admin_reload_is_not_affected_by_headers(client: TestClient) -> None:
    r = client.post("/v1/admin/reload?wait=true", headers=ADMIN)
    assert r.status_code == 202 and r.headers["cache-control"] == "no-store"
