"""The dose what-if's wording matches what was measured: the note says plainly that the numbers
are not the effect of changing the dose and how far they missed the true effect; the what-if's
record edit is the one the training pipeline measured."""

from __future__ import annotations

import re
from pathlib import Path

from service_support import patient

from hepatorisk.assessment import AssessRequest, assess, load_model_pair
from hepatorisk.assessment.results import WHAT_IF_NOTE
from hepatorisk.assessment.what_if import dose_scenarios, what_if_note
from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.training.dose_edit import MAX_DOSE_G_DAY, dose_edit

# the demo champions' test metrics (20,000-patient cohort, seed 7; README "Training pipelines")
MEASURED = {
    "liver": {
        "test_metrics": {
            "whatif_stop_mae": 0.0054,
            "whatif_stop_model_mean": -0.0062,
            "whatif_stop_true_mean": -0.0016,
            "whatif_1p5x_mae": 0.0528,
            "whatif_1p5x_model_mean": 0.0006,
            "whatif_1p5x_true_mean": 0.0533,
        }
    },
    "relapse": {
        "test_metrics": {
            "whatif_stop_mae": 0.0244,
            "whatif_stop_model_mean": -0.0046,
            "whatif_stop_true_mean": 0.0180,
        }
    },
}


def test_the_note_says_the_numbers_are_not_the_effect_and_by_how_much_they_missed() -> None:
    assert WHAT_IF_NOTE.startswith("These numbers are not the effect of changing the dose")
    assert "missed it by about 5 points" in WHAT_IF_NOTE
    stated = re.search(r"by about (\d+) points", WHAT_IF_NOTE)
    assert stated is not None
    worst = max(m for t in MEASURED.values() for k, m in t["test_metrics"].items() if "mae" in k)
    assert int(stated.group(1)) == round(100 * worst)


def test_the_note_is_worded_by_the_models_own_measurement() -> None:
    note = what_if_note(MEASURED)
    assert note.startswith("These numbers are not the effect of changing the dose")
    assert "missed it by 5.3 points on average" in note
    assert "1.5x the dose: true liver risk +5.3 points, model +0.1" in note
    # a smaller error is stated as it was measured, never a fixed text
    small = {
        "liver": {"test_metrics": {k: v / 10 for k, v in MEASURED["liver"]["test_metrics"].items()}}
    }
    assert "missed it by 0.5 points on average" in what_if_note(small)
    # models without the measurement (a real cohort, an older run): the documented default
    assert what_if_note({"liver": {}, "relapse": {"test_metrics": {"test_auroc": 0.7}}}) == (
        WHAT_IF_NOTE
    )


def test_every_answer_carries_the_note(model_dirs: dict[str, Path]) -> None:
    models = load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    [result] = assess(models, [AssessRequest.model_validate(patient()).to_input()], load_policy())
    assert result.benefit_harm.scenarios
    assert result.benefit_harm.note == WHAT_IF_NOTE


def test_the_answer_states_the_answering_models_own_measurement(
    model_dirs: dict[str, Path],
) -> None:
    models = load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    for outcome, model in models.items():
        model.bundle.metadata["test_metrics"] = MEASURED[outcome]["test_metrics"]
    [result] = assess(models, [AssessRequest.model_validate(patient()).to_input()], load_policy())
    assert result.benefit_harm.note == what_if_note(MEASURED) != WHAT_IF_NOTE
    assert "missed it by 5.3 points on average" in result.benefit_harm.note


def test_the_service_edits_the_record_as_the_pipeline_measured() -> None:
    policy = load_policy()
    user = AssessRequest.model_validate(patient()).to_input()
    heavy = AssessRequest.model_validate(
        patient(kratom={"product": "extract", "dose_g_day": 80.0, "mitragynine_mg_per_g": 5.0})
    ).to_input()
    scenarios = dose_scenarios([user, heavy], policy)
    labels = [(i, label) for i, label, _ in scenarios]
    assert labels == [
        (0, "kratom stopped"),
        (0, "0.5x the current dose"),
        (0, "1.5x the current dose"),
        (1, "kratom stopped"),
        (1, "0.5x the current dose"),  # 1.5 x 80 g is beyond the record contract's range
    ]
    assert MAX_DOSE_G_DAY < 80.0 * 1.5
    for (i, _, changed), k in zip(scenarios, [0.0, 0.5, 1.5, 0.0, 0.5], strict=True):
        source = [user, heavy][i]
        expected = dose_edit(float(source.record["kratom_dose_g_day"]), k)
        assert expected is not None
        assert changed.record == {**source.record, **expected}
