"""Shared fixtures for the public-cohort tests: the vendored data and the vendored oracles.

Everything a test needs is in the repository (data/public/, tests/public/oracles/); no test reads
anything outside it, so a clone on its own runs every test.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyreadr
import pytest

from hepatorisk.cohorts.ctn0094 import Ctn0094Cohort, RawTables, derive_cohort, load_raw

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDORED = REPO_ROOT / "data" / "public"
ORACLES = Path(__file__).resolve().parent / "oracles"  # provenance and licences: oracles/README.md
# sha256 of each vendored oracle (oracles/README.md): a changed file fails, never passes silently
ORACLE_SHA256 = {
    "ctnote/outcomesCTN0094.rda": (
        "f01d7d2e32b6facfa0bec2aadfaac561b54b152536645bc0971dd97e33baf16a"
    ),
    "ctn0094extra/derived_weeklyOpioidPattern.rda": (
        "bae9eb8aa6151d85b985a82ae279e53ab856acb46e9eda5e52a47d9ea43603e5"
    ),
}


def oracle(name: str) -> Path:
    """A vendored oracle file, after checking its sha256 against oracles/README.md."""
    path = ORACLES / name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == ORACLE_SHA256[name], f"{path}: sha256 {digest} is not the vendored file's"
    return path


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
def ctnote_outcomes() -> pd.DataFrame:
    """CTNote v0.1.3 ``outcomesCTN0094`` (GPL-3, vendored as a test oracle only)."""
    frame = pyreadr.read_r(str(oracle("ctnote/outcomesCTN0094.rda")))
    table = frame["outcomesCTN0094"]
    return table.assign(who=table["who"].astype("int64"))


@pytest.fixture(scope="session")
def extra_patterns() -> pd.DataFrame:
    """public.ctn0094extra v1.0.4 ``derived_weeklyOpioidPattern`` (MIT, vendored oracle)."""
    path = oracle("ctn0094extra/derived_weeklyOpioidPattern.rda")
    table = pyreadr.read_r(str(path))["derived_weeklyOpioidPattern"]
    return table.assign(who=table["who"].astype("int64"))
