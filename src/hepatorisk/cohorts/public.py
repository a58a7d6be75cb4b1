"""One entry point for the real public cohorts, so the CLI stays a thin layer."""

from __future__ import annotations

from pathlib import Path

from hepatorisk.cohorts.kinds import PUBLIC_KINDS
from hepatorisk.data import default_source, verify_dataset
from hepatorisk.exceptions import ConfigError

__all__ = ["build_public_cohort"]


def build_public_cohort(name: str, out: Path, source: Path | None = None) -> Path:
    """Verify every published file of ``name`` in ``source``, then write the cohort to ``out``."""
    if name not in PUBLIC_KINDS:
        raise ConfigError(f"unknown public cohort {name!r}; expected one of {PUBLIC_KINDS}")
    folder = source if source is not None else default_source(name)
    verify_dataset(folder, name)
    if name == "ctn0094":
        from hepatorisk.cohorts.ctn0094 import build_ctn0094

        build_ctn0094(folder, out)
    else:
        from hepatorisk.cohorts.nhanes import build_nhanes

        build_nhanes(folder, out)
    return out
