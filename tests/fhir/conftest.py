"""Fixtures of the FHIR tests: the service tests' models and app, reused (never rebuilt here),
with the CDS Hooks settings of issue 15; every FHIR and CDS Hooks answer a test receives is
validated (``fhir_validation``: official R4 JSON Schema, FHIRPath invariants, references)."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from fhir_support import AUDIENCE, MODEL_CARD, cds_settings
from fhir_validation import RESULTS, check_answer
from local_server import LocalServer, local_server
from service_support import bundles, make_settings, model_dirs, running

from hepatorisk.settings import Settings

__all__ = [
    "AUDIENCE",
    "MODEL_CARD",
    "bundles",
    "cds_settings",
    "client",
    "fhir_server",
    "model_dirs",
    "settings",
]


@pytest.fixture(scope="session")
def _server() -> Iterator[LocalServer]:
    with local_server() as server:
        yield server


@pytest.fixture
def fhir_server(_server: LocalServer) -> Iterator[LocalServer]:
    """The local HTTP server (JWK Sets, FHIR endpoint), emptied for each test."""
    _server.reset()
    yield _server
    _server.reset()


@pytest.fixture
def settings(model_dirs: dict[str, Path], tmp_path: Path) -> Settings:
    return cds_settings(make_settings(model_dirs, tmp_path))


class ValidatingClient:
    """A TestClient whose FHIR and CDS Hooks answers are validated before the test sees them."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def _checked(self, method: str, url: str, **kwargs: Any) -> Any:
        r = getattr(self._client, method)(url, **kwargs)
        if url.startswith(("/fhir", "/cds-services")) and "json" in r.headers.get(
            "content-type", ""
        ):
            check_answer(url, r.status_code, r.json())
        return r

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._checked("get", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._checked("post", url, **kwargs)


@pytest.fixture
def client(settings: Settings) -> Iterator[ValidatingClient]:
    with running(settings) as c:
        yield ValidatingClient(c)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if RESULTS:
        terminalreporter.write_line(
            "FHIR validation (R4 JSON Schema, FHIRPath invariants, references): "
            + ", ".join(f"{k} {v}" for k, v in sorted(RESULTS.items()))
        )
