"""Where the vendored public data lives: ``data/public/<folder>`` of the working copy."""

from __future__ import annotations

from pathlib import Path

from hepatorisk.data.registry import get_dataset
from hepatorisk.exceptions import DataSourceError

__all__ = ["default_source", "public_data_candidates"]


def public_data_candidates() -> list[Path]:
    """``data/public`` under the current folder, then under the checkout this package runs from."""
    here = Path.cwd() / "data" / "public"
    # src/hepatorisk/data/paths.py -> the repository root is three folders above the package.
    checkout = Path(__file__).resolve().parents[3] / "data" / "public"
    return [here] if here.resolve() == checkout.resolve() else [here, checkout]


def default_source(name: str) -> Path:
    """The vendored folder of dataset ``name``; a clear error if no candidate exists."""
    ds = get_dataset(name)
    candidates = [root / ds.folder for root in public_data_candidates()]
    for folder in candidates:
        if folder.is_dir():
            return folder
    tried = ", ".join(str(c) for c in candidates)
    raise DataSourceError(
        f"no vendored {name} data found (looked in {tried}). Run from the repository root, pass "
        f"--source DIR, or get the files with 'hepatorisk data fetch {name} --dest DIR'."
    )
