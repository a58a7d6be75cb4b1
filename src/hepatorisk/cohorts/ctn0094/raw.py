"""Reading the published CTN-0094 ``.rda`` tables, each one checksum-verified before it is parsed.

Factors become plain strings and ``who`` an integer, so the derivations downstream never depend on
pyreadr's categorical encoding.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd
import pyreadr

from hepatorisk.data import get_dataset, verify_file
from hepatorisk.exceptions import DataSourceError

__all__ = ["RawTables", "load_raw", "load_table"]


@dataclass(frozen=True)
class RawTables:
    """The published tables the cohort is derived from (one attribute per ``.rda`` file)."""

    everybody: pd.DataFrame
    randomization: pd.DataFrame
    demographics: pd.DataFrame
    site_masked: pd.DataFrame
    asi: pd.DataFrame
    rbs: pd.DataFrame
    rbs_iv: pd.DataFrame
    tlfb: pd.DataFrame
    uds: pd.DataFrame
    uds_temp: pd.DataFrame
    visit: pd.DataFrame
    psychiatric: pd.DataFrame
    fagerstrom: pd.DataFrame
    pain: pd.DataFrame
    withdrawal: pd.DataFrame

    def replace(self, **tables: pd.DataFrame) -> RawTables:
        """A copy with some tables swapped (used to prove what a derivation does not read)."""
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        return RawTables(**{**current, **tables})


def load_table(source: Path, name: str) -> pd.DataFrame:
    """One table by name, after its file's SHA-256 has been checked against the registry."""
    dataset = get_dataset("ctn0094")
    path = source / f"{name}.rda"
    verify_file(path, dataset.file(path.name), dataset.name)
    try:
        frame = pyreadr.read_r(str(path))[name]
    except (pyreadr.custom_errors.PyreadrError, KeyError) as exc:  # pragma: no cover - checksummed
        raise DataSourceError(f"{path}: cannot read table {name!r} ({exc})") from None
    return _plain(frame)


def load_raw(source: Path) -> RawTables:
    """Every table the cohort needs, from a folder laid out like ``data/public/ctn0094``."""
    if not source.is_dir():
        raise DataSourceError(
            f"{source}: not a folder; expected the CTN-0094 .rda files "
            "(default data/public/ctn0094, or get them with 'hepatorisk data fetch ctn0094')"
        )
    return RawTables(**{f.name: load_table(source, f.name) for f in fields(RawTables)})


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    if "who" in out.columns:
        # fagerstrom carries 3 rows without a patient id in v1.0.6; they cannot be joined.
        out = out[pd.to_numeric(out["who"], errors="coerce").notna()].copy()
        out["who"] = pd.to_numeric(out["who"]).astype("int64")
    return out.reset_index(drop=True)
