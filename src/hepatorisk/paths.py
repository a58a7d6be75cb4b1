"""Where hepatorisk's committed inputs live, found without import-time side effects.

The defaults ship inside the package (``hepatorisk/defaults/``) so that an installed
``hepatorisk`` works anywhere; ``data/synthetic/generator.yaml`` in the repository is the same file
(a test keeps them identical).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["DEFAULT_GENERATOR_CONFIG", "PACKAGE_DIR"]

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_GENERATOR_CONFIG = PACKAGE_DIR / "defaults" / "generator.yaml"
