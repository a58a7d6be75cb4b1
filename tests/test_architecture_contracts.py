"""The import contracts of pyproject.toml ([tool.importlinter]) hold: layers, a web-free
assessment core, and no import cycle in any package. The contracts say so, not import order."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_import_contracts_hold() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"lint-imports exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    )
