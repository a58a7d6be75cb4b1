"""Shared fixtures for the public-cohort tests: the vendored data and the shared oracle folder."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadr
import pytest

from hepatorisk.cohorts.ctn0094 import Ctn0094Cohort, RawTables, derive_cohort, load_raw

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


@pytest.fixture(scope="session")
def ctn_raw(ctn_source: Path) -> RawTables:
    return load_raw(ctn_source)


@pytest.fixture(scope="session")
def ctn_cohort(ctn_raw: RawTables) -> Ctn0094Cohort:
    return derive_cohort(ctn_raw)


@pytest.fixture(scope="session")
def ctnote_outcomes(shared_public: Path) -> pd.DataFrame:
    """CTNote v0.1.3 ``outcomesCTN0094`` (GPL-3, read from the shared folder, never vendored)."""
    frame = pyreadr.read_r(str(shared_public / "ctnote_outcomes" / "outcomesCTN0094.rda"))
    table = frame["outcomesCTN0094"]
    return table.assign(who=table["who"].astype("int64"))


@pytest.fixture(scope="session")
def extra_patterns(shared_public: Path) -> pd.DataFrame:
    """public.ctn0094extra v1.0.4 ``derived_weeklyOpioidPattern``."""
    path = shared_public / "ctn0094extra" / "derived_weeklyOpioidPattern.rda"
    table = pyreadr.read_r(str(path))["derived_weeklyOpioidPattern"]
    return table.assign(who=table["who"].astype("int64"))
