"""serve/docker-compose.yml and serve/Dockerfile, checked statically: ``docker-compose config``
(Debian's docker-compose validates without a daemon) accepts the file with the example settings;
images are pinned; each long-running service has its own health check; each service is given
only its own secrets; and the image installs the runtime lock only (no test or lint tool)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from compose_support import EXAMPLE_ENV, REPO, compose_config

SECRETS = ("AUDIT_DB_PASSWORD", "MLFLOW_DB_PASSWORD", "HEPATORISK_IDENTIFIER_SALT",
           "HEPATORISK_API_TOKENS", "HEPATORISK_ADMIN_TOKENS")  # fmt: skip
# which secret each service may receive (by the example's value)
ALLOWED = {
    "audit-db": {"AUDIT_DB_PASSWORD"},
    "audit-migrate": {"AUDIT_DB_PASSWORD"},
    "mlflow-db": {"MLFLOW_DB_PASSWORD"},
    "mlflow": {"MLFLOW_DB_PASSWORD"},
    "api": {
        "AUDIT_DB_PASSWORD",
        "HEPATORISK_IDENTIFIER_SALT",
        "HEPATORISK_API_TOKENS",
        "HEPATORISK_ADMIN_TOKENS",
    },
    "train": set(),
    "report": set(),
}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict]:  # type: ignore[type-arg]
    """The example settings with a distinct value per secret (to trace where each goes)."""
    lines, values = [], {}
    for line in EXAMPLE_ENV.read_text().splitlines():
        key = line.split("=", 1)[0]
        if key in SECRETS:
            values[key] = f"secret-of-{key.lower().replace('_', '-')}"
            value = values[key]
            if key.endswith("TOKENS"):
                value = f'[{{"caller": "c", "token": "{values[key]}"}}]'
            line = f"{key}={value}"
        lines.append(line)
    env = tmp_path_factory.mktemp("compose") / ".env"
    env.write_text("\n".join(lines) + "\n")
    return values, compose_config(env)


def test_the_services_are_the_tested_topology(example) -> None:  # type: ignore[no-untyped-def]
    _, config = example
    assert set(config["services"]) == set(ALLOWED)


def test_every_image_is_pinned_by_version(example) -> None:  # type: ignore[no-untyped-def]
    _, config = example
    for name, service in config["services"].items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:\d+(\.\d+)+[\w.-]*(@sha256:[0-9a-f]{64})?", image), (
            f"{name}: image {image} is not pinned by version"
        )
    base = re.findall(
        r"^ARG PYTHON_IMAGE=(\S+)$", (REPO / "serve" / "Dockerfile").read_text(), re.M
    )
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+(@sha256:[0-9a-f]{64})?", base[0])


def test_long_running_services_have_their_own_health_check(example) -> None:  # type: ignore[no-untyped-def]
    _, config = example
    services = config["services"]
    checks = {n: " ".join(services[n]["healthcheck"]["test"]) for n in
              ("audit-db", "mlflow-db", "mlflow", "api")}  # fmt: skip
    assert "127.0.0.1:5000/health" in checks["mlflow"]
    assert "127.0.0.1:8000/readyz" in checks["api"]
    assert "pg_isready" in checks["audit-db"] and "pg_isready" in checks["mlflow-db"]
    assert services["api"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert (
        services["api"]["depends_on"]["audit-migrate"]["condition"]
        == "service_completed_successfully"
    )


def test_mlflow_serves_artifacts_and_allows_the_compose_host(example) -> None:  # type: ignore[no-untyped-def]
    _, config = example
    command = config["services"]["mlflow"]["command"]
    assert "--serve-artifacts" in command
    hosts = command[command.index("--allowed-hosts") + 1].split(",")
    assert "mlflow:5000" in hosts and "*" not in hosts
    assert "--disable-security-middleware" not in command
    # the password reaches mlflow server through its environment, never its command line
    assert not any("postgresql" in arg for arg in command)


def test_each_service_gets_only_its_own_secrets(example) -> None:  # type: ignore[no-untyped-def]
    values, config = example
    for name, service in config["services"].items():
        assert "env_file" not in service, f"{name}: env_file hands it every secret"
        given = " ".join(str(v) for v in (service.get("environment") or {}).values())
        received = {key for key, value in values.items() if value in given}
        assert received <= ALLOWED[name], f"{name} receives {received - ALLOWED[name]}"
    assert "HEPATORISK_IDENTIFIER_SALT" in str(config["services"]["api"]["environment"])


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _names(lock: Path) -> set[str]:
    return {
        _canonical(m.group(1)) for m in re.finditer(r"^([A-Za-z0-9_.-]+)==", lock.read_text(), re.M)
    }


def test_the_runtime_lock_holds_no_test_or_lint_tool_and_no_machine_index() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    runtime = _names(REPO / "requirements.lock")
    dev = _names(REPO / "requirements-dev.lock")
    tools = {
        _canonical(re.split(r"[<>=\[; ]", r)[0]) for r in project["optional-dependencies"]["dev"]
    }
    direct = {_canonical(re.split(r"[<>=\[; ]", r)[0]) for r in project["dependencies"]}
    # a dev tool may be in the runtime lock only as a runtime package's dependency (httpx)
    leaked = (tools - direct) & runtime
    assert leaked <= {"httpx"}, f"dev tools in requirements.lock: {sorted(leaked)}"
    for tool in ("pytest", "ruff", "mypy", "schemathesis", "hypothesis", "import-linter"):
        assert tool not in runtime and tool in dev
    assert direct <= runtime
    for lock in ("requirements.lock", "requirements-dev.lock"):
        content = (REPO / lock).read_text()
        assert not re.search(r"^--(extra-)?index-url|^--find-links|file://", content, re.M), lock
    dockerfile = (REPO / "serve" / "Dockerfile").read_text()
    assert "--require-hashes -r requirements.lock" in dockerfile
    assert "requirements-dev.lock" not in dockerfile and "[dev]" not in dockerfile
