"""Every MLflow call goes through ``hepatorisk.tracking``: no other module imports mlflow.

The exceptions are the pyfunc entry point MLflow itself loads (``modeling/pyfunc.py`` defines
the ``PythonModel``, ``modeling/mlflow_model.py`` is the model-from-code file). Imports are
found anywhere in a module (inside functions too), from the source text, without importing it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "hepatorisk"
ALLOWED = {"tracking.py", "modeling/pyfunc.py", "modeling/mlflow_model.py"}


def _imports_mlflow(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        if any(name == "mlflow" or name.startswith("mlflow.") for name in names):
            lines.append(node.lineno)
    return lines


def test_only_the_tracking_adapter_imports_mlflow() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = path.relative_to(PACKAGE).as_posix()
        if module in ALLOWED:
            continue
        lines = _imports_mlflow(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        offenders += [f"hepatorisk/{module}:{line}" for line in lines]
    assert not offenders, (
        "import mlflow only in hepatorisk/tracking.py (the one adapter); found it in "
        + ", ".join(offenders)
    )


def test_the_check_sees_imports_inside_functions() -> None:
    source = "def f():\n    from mlflow.exceptions import MlflowException\n"
    assert _imports_mlflow(ast.parse(source)) == [2]
    assert _imports_mlflow(ast.parse("import mlflowish\nimport os\n")) == []
