"""Pipeline files that extend pipelines: the full-size variants read as their base plus the
settings they state, a typo in any file of the chain is named with its file and line, and a
file that extends itself is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from training_support import PIPELINES

from hepatorisk.exceptions import ConfigError
from hepatorisk.training.spec import load_pipeline


def _differences(base: dict, variant: dict, prefix: str = "") -> dict[str, tuple]:
    """Every leaf whose value differs, by dotted key."""
    out: dict[str, tuple] = {}
    for key in base.keys() | variant.keys():
        a, b = base.get(key), variant.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out |= _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out[f"{prefix}{key}"] = (a, b)
    return out


@pytest.mark.parametrize(
    ("outcome", "own"),
    [
        (
            "liver",
            {
                "model.lightgbm.n_estimators": 200,
                "model.lightgbm.learning_rate": 0.05,
                "model.lightgbm.num_leaves": 7,
                "model.lightgbm.min_child_samples": 100,
            },
        ),
        ("relapse", {"model.calibration": "per_landmark"}),
    ],
)
def test_full_size_pipeline_is_its_base_plus_what_it_states(outcome: str, own: dict) -> None:
    base = load_pipeline(PIPELINES / f"{outcome}_synthetic.yaml").model_dump()
    full = load_pipeline(PIPELINES / f"{outcome}_synthetic_full.yaml").model_dump()
    changed = _differences(base, full)
    assert changed.pop("name") == (f"{outcome}_synthetic", f"{outcome}_synthetic_full")
    assert changed.pop("cohort.path") == ("work/cohort", "work/cohort-full")
    assert changed.pop("cohort.generate.patients") == (20000, 200000)
    assert changed.pop("landmarks.compare_designs") == (True, False)
    # issue 13's bars, held by the gate at every landmark
    assert changed.pop("gate.landmark_min_auroc_vs_oracle") == (None, 0.97)
    assert changed.pop("gate.landmark_calibration_slope") == (None, (0.9, 1.1))
    assert {key: new for key, (_, new) in changed.items()} == own
    # what neither file states comes from the shared base, two files up
    assert full["model"]["uncertainty"]["members"] == 10
    assert full["registered_model"] == base["registered_model"]


def test_typo_in_a_variant_names_its_file_and_line(tmp_path: Path) -> None:
    for name in ("_synthetic_base.yaml", "liver_synthetic.yaml"):
        (tmp_path / name).write_text((PIPELINES / name).read_text())
    variant = tmp_path / "liver_variant.yaml"
    variant.write_text("extends: liver_synthetic.yaml\nname: variant\nsplit: {sed: 3}\n")
    with pytest.raises(ConfigError, match=rf"{variant}:3: split.sed: Extra inputs"):
        load_pipeline(variant)


def test_a_file_extending_itself_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    with pytest.raises(ConfigError, match=r"a.yaml: extends itself \(.*a.yaml -> .*b.yaml"):
        load_pipeline(tmp_path / "a.yaml")
