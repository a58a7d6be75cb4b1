"""The compose file as ``docker-compose config`` resolves it, and its services' commands, health
checks and environments translated for one host (no container daemon here): container addresses
become 127.0.0.1 and free ports; nothing else of a command changes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "serve" / "docker-compose.yml"
EXAMPLE_ENV = REPO / "serve" / ".env.example"


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(
            "docker-compose is missing: install it with `make system-deps` (Debian package "
            "docker-compose; `config` validates the file without a container daemon)",
            pytrace=False,
        )
    return found


def compose_config(env_file: Path) -> dict[str, Any]:
    """The resolved compose file (interpolated from ``env_file``, anchors merged), validated by
    docker-compose itself; every profile's services included."""
    done = subprocess.run(
        [docker_compose(), "-f", str(COMPOSE), "--env-file", str(env_file), "config"],
        capture_output=True, text=True, timeout=120, check=False, cwd=COMPOSE.parent,
    )  # fmt: skip
    assert done.returncode == 0, f"docker-compose config refused {COMPOSE}:\n{done.stderr}"
    config: dict[str, Any] = yaml.safe_load(done.stdout)
    return config


@dataclass
class Host:
    """Where the compose services' addresses land on this host."""

    postgres_port: int
    mlflow_port: int
    api_port: int
    artifacts: Path

    def text(self, value: str) -> str:
        """One string (an argument, a variable's value) with container addresses replaced."""
        for container, native in (
            ("http://mlflow:5000", f"http://127.0.0.1:{self.mlflow_port}"),
            ("@audit-db:5432/", f"@127.0.0.1:{self.postgres_port}/"),
            ("@mlflow-db:5432/", f"@127.0.0.1:{self.postgres_port}/"),
            ("127.0.0.1:5000", f"127.0.0.1:{self.mlflow_port}"),
            ("localhost:5000", f"localhost:{self.mlflow_port}"),
            ("127.0.0.1:8000", f"127.0.0.1:{self.api_port}"),
        ):
            value = value.replace(container, native)
        return value

    def command(self, args: list[str]) -> list[str]:
        out: list[str] = []
        for arg in args:
            previous = out[-1] if out else ""
            if previous == "--host" and arg == "0.0.0.0":
                arg = "127.0.0.1"  # the host's loopback, not every interface
            elif previous == "--port":
                arg = {"5000": str(self.mlflow_port), "8000": str(self.api_port)}[arg]
            elif previous == "--artifacts-destination":
                arg = str(self.artifacts)
            out.append(self.text(arg))
        return out

    def environment(self, service: dict[str, Any]) -> dict[str, str]:
        """The service's own variables (translated) on top of a minimal process environment:
        PATH with this interpreter's bin first, HOME, locale; nothing else of the test's."""
        env = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "LC_ALL", "TMPDIR")}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env["PYTHONUNBUFFERED"] = "1"
        env.update({k: self.text(str(v)) for k, v in (service.get("environment") or {}).items()})
        return env

    def healthcheck(self, service: dict[str, Any]) -> list[str]:
        """The service's health check as a command (CMD form), translated."""
        test = service["healthcheck"]["test"]
        assert test[0] == "CMD", f"health checks are in CMD form: {test}"
        args = self.command(test[1:])
        if args[0] == "pg_isready":
            args += ["-p", str(self.postgres_port)]
        return args
