"""Whether a risk rests on an assumption of the synthetic training cohort, and the risk under
the cohort's other scenarios (issue 13 item 4).

The synthetic cohort's kratom effects are assumptions bounded by the evidence, not facts: its
excess liver-injury risk and its benefit on craving and withdrawal each have a low, central and
high scenario (generator.yaml ``kratom_effects``). A model trained with ``model.scenarios``
carries the same recipe refitted under the other scenarios (``modeling.scenarios``).

The rule (stated in every answer's ``drives``): the assumption *drives* a risk when it applies
(the patient uses kratom at entry or now, or whether they do is unknown) and the risks under the
scenarios, the served one included, span at least ``DRIVES_POINTS`` percentage points and at
least the model's refit noise (``ScenarioModels.noise_points``: the spread the same models give
patients who do not use kratom, where the assumption cannot act). Why 1 point: risks are shown
to the whole percent, so a smaller spread would not change what is read. Why the noise: each
scenario's cohort is a fresh draw and each model a fresh fit, so a spread below it cannot be
told apart from refitting. A patient who does not use kratom gets no scenario risks: the
assumption is about kratom, and the scenario models' differences there are that noise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

import numpy as np

from hepatorisk.assessment.inputs import PatientInput
from hepatorisk.assessment.results import Prediction, ScenarioAnswer, ScenarioRisk
from hepatorisk.modeling.bundle import ModelBundle

__all__ = ["ASSUMPTIONS", "DRIVES_POINTS", "scenario_answer", "with_scenario_answers"]

#: spread of the risks under the scenarios (percentage points) from which the assumption is
#: said to drive the answer (project choice: risks are shown to the whole percent)
DRIVES_POINTS = 1.0
#: what each outcome's scenarios vary (generator.yaml ``kratom_effects``)
ASSUMPTIONS = {
    "liver": "kratom's excess liver-injury risk",
    "relapse": "kratom's benefit on craving and withdrawal (its relapse benefit)",
}
_ORDER = ("low", "central", "high")

P = TypeVar("P", bound=Prediction)


def with_scenario_answers(
    bundle: ModelBundle,
    patients: Sequence[PatientInput],
    risks: list[P],
    probabilities: Mapping[str, np.ndarray] | None,
) -> list[P]:
    """``risks`` (one per patient) with their scenario answer, from the scenario models' risks
    of the same patients (``Scored.scenarios``); unchanged when the model carries no scenario
    models (the answer stays null: unknown)."""
    scenarios = getattr(bundle, "scenarios", None)
    if scenarios is None or not scenarios.models or probabilities is None:
        return risks
    return [
        replace(
            r,
            scenario_answer=scenario_answer(
                r.outcome,
                scenarios.served,
                r.probability,
                {k: float(v[i]) for k, v in probabilities.items()},
                uses_kratom(p),
                scenarios.noise_points,
            ),
        )
        for i, (r, p) in enumerate(zip(risks, patients, strict=True))
    ]


def uses_kratom(patient: PatientInput) -> bool:
    """False only for a patient known not to use kratom, at entry or now (unknown is not "no")."""
    return not (patient.record.get("kratom_product") == "none" and not patient.exposure.taking)


def scenario_answer(
    outcome: str,
    served: str,
    probability: float,
    others: Mapping[str, float],
    applies: bool,
    noise_points: float | None = None,
) -> ScenarioAnswer:
    """One risk's scenario answer under the rule of this module."""
    assumption = ASSUMPTIONS.get(outcome, "kratom's effects")
    names = sorted(others, key=lambda n: _ORDER.index(n) if n in _ORDER else len(_ORDER))
    source = f"an assumption of the synthetic training cohort: {assumption} (scenario {served})"
    if not applies:
        text = (
            f"This risk does not rest on {source}: the patient does not use kratom, so no "
            "scenario risk is given."
        )
        return ScenarioAnswer(assumption, served, False, False, [], text, noise_points)
    risks = [ScenarioRisk(n, float(others[n])) for n in names]
    values = np.array([probability, *(r.probability for r in risks)])
    spread = float(values.max() - values.min()) * 100
    under = ", ".join(
        f"under the {r.scenario} scenario {'it would be ' if k == 0 else ''}{r.probability:.1%}"
        for k, r in enumerate(risks)
    )
    noise = noise_points or 0.0
    drives = spread >= max(DRIVES_POINTS, noise)
    if drives:
        text = f"This risk rests on {source}. {under[0].upper()}{under[1:]}."
    elif spread >= DRIVES_POINTS:
        text = (
            f"Whether this risk rests on {source} cannot be told here: {under}, but refitting "
            f"alone moves the risks of patients not using kratom by up to {noise:.1f} "
            "percentage points."
        )
    else:
        text = (
            f"This risk barely depends on {source}: {under} (within {DRIVES_POINTS:g} "
            "percentage point)."
        )
    return ScenarioAnswer(assumption, served, True, drives, risks, text, noise_points)
