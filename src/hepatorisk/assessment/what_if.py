"""Dose what-ifs: the same record with kratom stopped or its dose scaled, asked of both models.

These are the models' associations, not the effect of changing the dose: the training pipelines
measure them against the synthetic cohort's true effect (``whatif_*`` test metrics, the same
record edit: ``hepatorisk.training.dose_edit``), and the note of every answer says how far they
missed it (``WHAT_IF_NOTE``, or ``what_if_note`` from the models' own test metrics). The
scenarios come from the monitoring policy's dose multipliers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from hepatorisk.assessment.inputs import PatientInput
from hepatorisk.assessment.results import WHAT_IF_NOTE, BenefitHarm, DoseScenario, Risk
from hepatorisk.clinical.monitoring import Policy
from hepatorisk.training.dose_edit import dose_edit

__all__ = ["Scenario", "benefit_harm", "dose_scenarios", "what_if_note"]

Scenario = tuple[int, str, PatientInput]  # (patient index, label, changed record)
# metric-key name of each measured dose change (``whatif_<name>_mae`` ...) -> words
_MEASURED = {"stop": "kratom stopped", "half": "half the dose", "1p5x": "1.5x the dose"}


def dose_scenarios(patients: Sequence[PatientInput], policy: Policy) -> list[Scenario]:
    """(patient index, label, changed record) for each dose what-if of kratom users."""
    out: list[Scenario] = []
    for i, p in enumerate(patients):
        dose = float(p.record["kratom_dose_g_day"])
        if p.record["kratom_product"] == "none" or dose <= 0:
            continue
        for k in policy.what_if.dose_multipliers:
            changes = dose_edit(dose, k)  # the edit the pipeline measures against the truth
            if changes is not None:
                label = "kratom stopped" if k == 0 else f"{k:g}x the current dose"
                out.append((i, label, p.with_record(**changes)))
    return out


def benefit_harm(
    patient: PatientInput,
    liver: Risk,
    relapse: Risk,
    mine: list[tuple[int, str, PatientInput]],
    what_if: dict[str, np.ndarray],
    note: str = WHAT_IF_NOTE,
) -> BenefitHarm:
    """One patient's scenarios (``mine``: row in ``what_if``, label, record) against the risks;
    ``note``: ``what_if_note`` of the answering models when known."""
    scenarios = []
    for j, label, changed in mine:
        pl, pr = float(what_if["liver"][j]), float(what_if["relapse"][j])
        scenarios.append(
            DoseScenario(
                label,
                float(changed.record["kratom_dose_g_day"]),
                pl,
                pr,
                (pl - liver.probability) * 100,
                (pr - relapse.probability) * 100,
            )
        )
    return BenefitHarm(
        float(patient.record["kratom_dose_g_day"]),
        liver.probability,
        relapse.probability,
        scenarios,
        note,
    )


def what_if_note(metadata: Mapping[str, Mapping[str, Any]]) -> str:
    """The what-if note worded by what the answering models measured: ``metadata`` is each
    outcome's bundle metadata, whose ``test_metrics`` hold the pipeline's ``whatif_*`` errors
    against the true effect; the largest mean absolute error is stated. ``WHAT_IF_NOTE`` (the
    demo champions' measurement) when no model carries one."""
    worst: tuple[float, str, str, float, float] | None = None
    for outcome, meta in metadata.items():
        m = meta.get("test_metrics") or {}
        for key, label in _MEASURED.items():
            mae = m.get(f"whatif_{key}_mae")
            model, true = m.get(f"whatif_{key}_model_mean"), m.get(f"whatif_{key}_true_mean")
            if mae is None or model is None or true is None or not np.isfinite(mae):
                continue
            if worst is None or mae > worst[0]:
                worst = (float(mae), outcome, label, float(model), float(true))
    if worst is None:
        return WHAT_IF_NOTE
    mae, outcome, label, model, true = worst
    return (
        "These numbers are not the effect of changing the dose (not causal): they are the "
        "models' predictions for this record with only the daily dose changed. Checked against the "
        f"true effect in the synthetic test set, they missed it by {100 * mae:.1f} points on "
        f"average ({label}: true {outcome} risk {100 * true:+.1f} points, model "
        f"{100 * model:+.1f}). "
        "Do not use them to choose a dose; discuss any change with the patient."
    )
