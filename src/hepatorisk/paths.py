"""Where hepatorisk's inputs live: path facts only, found without import-time side effects.

The defaults ship inside the package (``hepatorisk/defaults/``) so that an installed
``hepatorisk`` works anywhere; ``data/synthetic/generator.yaml`` in the repository is the same file
(a test keeps them identical). The vendored public data lives in ``data/public/<folder>`` of the
working copy (``hepatorisk.data.default_source`` picks a dataset's folder from these candidates).

This module imports nothing of hepatorisk, so every layer may use it.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "DEFAULT_GENERATOR_CONFIG",
    "PACKAGE_DIR",
    "PUBLIC_DATA",
    "REPOSITORY_DIR",
    "public_data_candidates",
]

PACKAGE_DIR = Path(__file__).resolve().parent
# src/hepatorisk/paths.py: the checkout this package runs from is two folders above the package
REPOSITORY_DIR = PACKAGE_DIR.parents[1]
DEFAULT_GENERATOR_CONFIG = PACKAGE_DIR / "defaults" / "generator.yaml"
PUBLIC_DATA = Path("data") / "public"  # relative: under the working directory


def public_data_candidates() -> list[Path]:
    """``data/public`` under the current folder, then under the checkout this package runs from."""
    here = Path.cwd() / PUBLIC_DATA
    checkout = REPOSITORY_DIR / PUBLIC_DATA
    return [here] if here.resolve() == checkout.resolve() else [here, checkout]
