"""``hepatorisk serve`` as a real process: start-up errors, the demo's token file, workers, audit.

(Refused secrets: test_secrets.py; a crash under load: test_audit_crash.py.)"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
from dotenv import dotenv_values
from no_identifiers_support import JSON, PLANT, hostile_bodies
from server_support import free_port, wait_server_ready
from service_support import API_TOKEN, SALT, patient

from hepatorisk.assessment.audit import AuditLog
from hepatorisk.cli import main


def test_unloadable_model_stops_start_up_with_a_clear_message(
    model_dirs, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("HEPATORISK_IDENTIFIER_SALT", SALT)
    monkeypatch.setenv("HEPATORISK_API_TOKENS", json.dumps([{"caller": "a", "token": API_TOKEN}]))
    code = main(["serve", "--liver-model", str(tmp_path / "missing"),
                 "--relapse-model", str(model_dirs["relapse"])])  # fmt: skip
    assert code == 2
    assert "missing: no such model folder" in capsys.readouterr().err


def test_token_then_serve_like_make_demo(model_dirs, tmp_path: Path):
    """``make demo``'s two steps: ``hepatorisk token`` writes the token and the salt to the env
    file (mode 600) and prints neither; ``serve --env-file`` accepts that token; no secret and
    no planted identifier reaches stdout or stderr (uvicorn's included)."""
    env_file = tmp_path / "work" / "service.env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    env |= {"HEPATORISK_AUDIT_DB_URL": f"sqlite:///{tmp_path / 'audit.db'}",
            "PYTHONUNBUFFERED": "1"}  # fmt: skip
    made = subprocess.run(
        [sys.executable, "-m", "hepatorisk", "token", "--caller", "demo", "--env-file",
         str(env_file)], env=env, capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    values = dotenv_values(env_file)
    [entry] = json.loads(values["HEPATORISK_API_TOKENS"] or "")
    token, salt = entry["token"], values["HEPATORISK_IDENTIFIER_SALT"] or ""
    assert entry["caller"] == "demo" and len(token) >= 32 and len(salt) >= 64
    assert str(env_file) in made.stdout
    assert token not in made.stdout + made.stderr and salt not in made.stdout + made.stderr

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "hepatorisk", "serve", "--port", str(port),
           "--env-file", str(env_file),
           "--liver-model", str(model_dirs["liver"]),
           "--relapse-model", str(model_dirs["relapse"])]  # fmt: skip
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        wait_server_ready(base, proc, seconds=60)
        auth = {"Authorization": f"Bearer {token}"}
        assert httpx.post(f"{base}/v1/assess", json=patient(), headers=auth).status_code == 200
        assert httpx.post(f"{base}/v1/assess", json=patient()).status_code == 401
        planted = 0
        for body in hostile_bodies():
            r = httpx.post(f"{base}/v1/assess", content=body, headers=auth | JSON)
            assert r.status_code < 500, r.text
            planted += 1
        assert planted > 10
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert token not in out + err and salt not in out + err  # never printed, never logged
    assert PLANT not in out + err, [line for line in (out + err).splitlines() if PLANT in line]
    assert "Uvicorn running" in err  # stderr is the server's log: it was captured


def test_several_workers_share_settings_token_and_audit(model_dirs, tmp_path: Path):
    port = free_port()
    db = tmp_path / "audit.db"
    token = "workers-token-0123456789abcdef"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    env |= {
        "HEPATORISK_AUDIT_DB_URL": f"sqlite:///{db}",
        "HEPATORISK_API_TOKENS": f'[{{"caller": "ehr", "token": "{token}"}}]',
        "HEPATORISK_IDENTIFIER_SALT": SALT,
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
    assert rebuilt.identifier_salt.get_secret_value() == SALT
