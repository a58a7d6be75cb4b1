"""Shared fixtures for the public-cohort tests: the vendored data and the shared oracle folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDORED = REPO_ROOT / "data" / "public"
# The shared folder sits beside the repository root (here and in CI); tests that need it fail,
# never skip, when it is missing, so a broken CI layout cannot pass silently.
SHARED_PUBLIC = REPO_ROOT / ".." / "shared" / "data" / "public"


@pytest.fixture(scope="session")
def shared_public() -> Path:
    """``../shared/data/public`` relative to the repository root; the test fails if it is absent."""
    folder = SHARED_PUBLIC.resolve()
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: these tests need the shared folder beside the repo root")
    return folder


@pytest.fixture(scope="session")
def vendored() -> Path:
    return VENDORED


@pytest.fixture(scope="session")
def ctn_source() -> Path:
    return VENDORED / "ctn0094"


@pytest.fixture(scope="session")
def nhanes_source() -> Path:
    return VENDORED / "nhanes_2017_2018"
