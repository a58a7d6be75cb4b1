"""Helpers of the tests that run ``hepatorisk serve`` (or PostgreSQL) as a real process."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_server_ready(
    base: str, proc: subprocess.Popen[Any], log: Path | None = None, seconds: float = 90
) -> None:
    """Poll ``/readyz`` until 200; fail at once if the server exits, or after ``seconds``
    (with the end of its log, when it writes one)."""

    def tail() -> str:
        return log.read_text()[-3000:] if log is not None else ""

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited at start-up:\n{tail()}"
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not ready in {seconds:g} s:\n{tail()}")
