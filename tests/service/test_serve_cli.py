"""``hepatorisk serve`` as a real process: start-up errors, generated token, kill -9 and audit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from service_support import patient

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.cli import main


def test_unloadable_model_stops_start_up_with_a_clear_message(model_dirs, tmp_path, capsys):
    code = main(["serve", "--liver-model", str(tmp_path / "missing"),
                 "--relapse-model", str(model_dirs["relapse"])])  # fmt: skip
    assert code == 2
    assert "missing: no such model folder" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_generated_token_is_printed_once_and_never_logged(model_dirs, tmp_path: Path):
    """Without a configured token one is generated, printed once, accepted, and not logged.
    (A crash under load: test_audit_crash.py.)"""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    env |= {"HEPATORISK_AUDIT_DB_URL": f"sqlite:///{tmp_path / 'audit.db'}",
            "PYTHONUNBUFFERED": "1"}  # fmt: skip
    cmd = [sys.executable, "-m", "hepatorisk", "serve", "--port", str(port),
           "--liver-model", str(model_dirs["liver"]),
           "--relapse-model", str(model_dirs["relapse"])]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        token = lines[1].strip()
        assert lines[0].startswith("No API token configured") and len(token) >= 32
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{base}/v1/assess", json=patient(), headers=auth).status_code == 200
        assert httpx.post(f"{base}/v1/assess", json=patient()).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert token not in "".join(lines[2:]) + out and token not in err  # printed once, never logged


def test_several_workers_share_settings_token_and_audit(model_dirs, tmp_path: Path):
    port = _free_port()
    db = tmp_path / "audit.db"
    token = "workers-token-0123456789abcdef"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    env |= {
        "HEPATORISK_AUDIT_DB_URL": f"sqlite:///{db}",
        "HEPATORISK_API_TOKENS": f'[{{"caller": "ehr", "token": "{token}"}}]',
        "HEPATORISK_TOP_DRIVERS": "2",
    }
    cmd = [sys.executable, "-m", "hepatorisk", "serve", "--port", str(port), "--workers", "2",
           "--liver-model", str(model_dirs["liver"]),
           "--relapse-model", str(model_dirs["relapse"])]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        ready = 0
        deadline = time.monotonic() + 60
        while ready < 10 and time.monotonic() < deadline:  # both workers loaded: ready in a row
            try:
                ready = ready + 1 if httpx.get(f"{base}/readyz").status_code == 200 else 0
            except httpx.TransportError:
                time.sleep(0.1)
        assert ready == 10
        auth = {"Authorization": f"Bearer {token}"}
        ids = []
        for _ in range(20):  # fresh connections: the kernel spreads them over the workers
            r = httpx.post(f"{base}/v1/assess", json=patient(), headers=auth)
            assert r.status_code == 200, r.text
            assert all(len(risk["drivers"]) <= 2 for risk in r.json()["risks"])
            ids.append(r.json()["request_id"])
        assert httpx.post(f"{base}/v1/assess", json=patient()).status_code == 401
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.communicate(timeout=30)
    log = AuditLog(f"sqlite:///{db}")
    logged = {r["request_id"] for r in log.rows()}
    log.close()
    assert set(ids) <= logged


def test_worker_environment_rebuilds_the_same_settings(settings, monkeypatch):
    from hepatorisk.settings import Settings

    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    rebuilt = Settings()
    assert rebuilt.environment() == settings.environment()
    assert rebuilt.api_tokens[0].token.get_secret_value() == "test-api-token-0123456789"
    assert rebuilt.identifier_salt.get_secret_value() == "test-salt"
