"""Constants shared by the training tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINES = REPO_ROOT / "pipelines"
SAMPLE = REPO_ROOT / "data" / "synthetic" / "sample"
# landmark pipelines: the week-0 truth only (the landmark oracle takes minutes on the sample)
FAST = [
    "evaluation.bootstrap=200",
    "model.lightgbm.n_estimators=120",
    "landmarks.oracle=false",
    # scenario models (issue 13 item 4) cost about as much as the served fit again on a loaded
    # machine: tested in test_scenario_models.py and, end to end, by the reports' fixture
    "model.scenarios=[]",
]
