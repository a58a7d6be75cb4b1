"""Dose what-ifs: the same record with kratom stopped or its dose scaled, asked of both models.

These are the models' associations, not causal effects (``WHAT_IF_NOTE`` says so in every
answer). The scenarios come from the monitoring policy's dose multipliers.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hepatorisk.assessment.fields import COLUMNS
from hepatorisk.assessment.inputs import PatientInput
from hepatorisk.assessment.results import WHAT_IF_NOTE, BenefitHarm, DoseScenario, Risk
from hepatorisk.clinical.monitoring import Policy

__all__ = ["Scenario", "benefit_harm", "dose_scenarios"]

Scenario = tuple[int, str, PatientInput]  # (patient index, label, changed record)
MAX_DOSE_G_DAY = COLUMNS["kratom_dose_g_day"].max or 0.0  # the record contract's bound


def dose_scenarios(patients: Sequence[PatientInput], policy: Policy) -> list[Scenario]:
    """(patient index, label, changed record) for each dose what-if of kratom users."""
    out: list[Scenario] = []
    for i, p in enumerate(patients):
        dose = float(p.record["kratom_dose_g_day"])
        if p.record["kratom_product"] == "none" or dose <= 0:
            continue
        for k in policy.what_if.dose_multipliers:
            if k == 0:
                changed = p.with_record(
                    kratom_product="none",
                    kratom_dose_g_day=0.0,
                    mitragynine_mg_per_g=None,
                    kratom_use_weeks=None,
                )
                out.append((i, "kratom stopped", changed))
            elif dose * k <= MAX_DOSE_G_DAY:
                out.append(
                    (i, f"{k:g}x the current dose", p.with_record(kratom_dose_g_day=dose * k))
                )
    return out


def benefit_harm(
    patient: PatientInput,
    liver: Risk,
    relapse: Risk,
    mine: list[tuple[int, str, PatientInput]],
    what_if: dict[str, np.ndarray],
) -> BenefitHarm:
    """One patient's scenarios (``mine``: row in ``what_if``, label, record) against the risks."""
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
        WHAT_IF_NOTE,
    )
