"""``hepatorisk serve`` as a real process: start-up errors, generated token, kill -9 and audit."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
from service_support import patient

from hepatorisk.cli import main
from hepatorisk.service.audit import AuditLog


def test_unloadable_model_stops_start_up_with_a_clear_message(model_dirs, tmp_path, capsys):
    code = main(["serve", "--liver-model", str(tmp_path / "missing"),
                 "--relapse-model", str(model_dirs["relapse"])])  # fmt: skip
    assert code == 2
    assert "missing: no such model folder" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_served_process_token_and_audit_survive_kill(model_dirs, tmp_path: Path):
    port = _free_port()
    db = tmp_path / "audit.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    env |= {"HEPATORISK_AUDIT_DB_URL": f"sqlite:///{db}", "PYTHONUNBUFFERED": "1"}
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
        acknowledged: list[str] = []

        def load() -> None:
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
                while True:
                    try:
                        r = c.post("/v1/assess", json=patient())
                    except httpx.TransportError:
                        return
                    assert r.status_code == 200
                    acknowledged.append(r.json()["request_id"])

        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        while len(acknowledged) < 40:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # a crash mid-load
        for w in workers:
            w.join(10)
    finally:
        proc.kill()
        out, err = proc.communicate(timeout=10)
    assert token not in out and token not in err  # printed once, never logged
    log = AuditLog(f"sqlite:///{db}")
    logged = {r["request_id"] for r in log.rows()}
    log.close()
    assert set(acknowledged) <= logged and len(acknowledged) >= 40
