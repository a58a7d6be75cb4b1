"""Reading the published NHANES 2017-2018 ``.XPT`` files, each checksum-verified first.

SAS transport stores an exact zero as a denormal float that pandas reads as ~5.4e-79 (for
example ALQ121 = 0, "never in the last year"); such values are snapped back to 0 here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hepatorisk.data import get_dataset, verify_file
from hepatorisk.exceptions import DataSourceError

__all__ = ["FILES", "load_raw", "load_xpt"]

# file -> columns used (the CDC codebook of each file documents the codes; see derive.py)
FILES: dict[str, tuple[str, ...]] = {
    "DEMO_J": (
        "SEQN",
        "RIAGENDR",
        "RIDAGEYR",
        "RIDRETH3",
        "DMDEDUC2",
        "INDFMPIR",
        "WTMEC2YR",
        "SDMVPSU",
        "SDMVSTRA",
    ),
    "BIOPRO_J": (
        "SEQN",
        "LBXSATSI",
        "LBXSASSI",
        "LBXSGTSI",
        "LBXSAPSI",
        "LBXSTB",
        "LBXSAL",
        "LBXSGL",
    ),
    "BMX_J": ("SEQN", "BMXBMI", "BMXWAIST"),
    "ALQ_J": ("SEQN", "ALQ111", "ALQ121", "ALQ130", "ALQ142", "ALQ151"),
    "HEQ_J": ("SEQN", "HEQ010", "HEQ030"),
    "DUQ_J": ("SEQN", "DUQ240", "DUQ250", "DUQ290", "DUQ330", "DUQ370"),
    "GHB_J": ("SEQN", "LBXGH"),
    "GLU_J": ("SEQN", "LBXGLU"),
}
_SAS_ZERO = 1e-70


def load_xpt(source: Path, name: str) -> pd.DataFrame:
    """One file's used columns, after its SHA-256 has been checked against the registry."""
    dataset = get_dataset("nhanes")
    path = source / f"{name}.XPT"
    verify_file(path, dataset.file(path.name), dataset.name)
    try:
        frame = pd.read_sas(path, format="xport", encoding="utf-8")
    except (ValueError, OSError) as exc:  # pragma: no cover - the bytes are checksummed
        raise DataSourceError(f"{path}: not a readable SAS transport file ({exc})") from None
    columns = FILES[name]
    missing = [c for c in columns if c not in frame.columns]
    if missing:  # pragma: no cover - the bytes are checksummed
        raise DataSourceError(f"{path}: expected NHANES variables {missing} are absent")
    out = frame[list(columns)].astype("float64")
    out = out.mask(out.abs() < _SAS_ZERO, 0.0)
    out["SEQN"] = out["SEQN"].astype(np.int64)
    return out


def load_raw(source: Path) -> pd.DataFrame:
    """All used files joined on SEQN (left join on the demographics file: every participant)."""
    if not source.is_dir():
        raise DataSourceError(
            f"{source}: not a folder; expected the NHANES 2017-2018 .XPT files "
            "(default data/public/nhanes_2017_2018, or 'hepatorisk data fetch nhanes')"
        )
    merged = load_xpt(source, "DEMO_J")
    for name in FILES:
        if name != "DEMO_J":
            merged = merged.merge(load_xpt(source, name), on="SEQN", how="left")
    return merged
