"""Every input's exact contribution to both models' answers for one patient (not audited: an
explanation is not an assessment)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.assessment.inputs import record_columns
from hepatorisk.assessment.model_pair import ModelPair, model_ref
from hepatorisk.assessment.request import AssessRequest
from hepatorisk.assessment.results import (
    FeatureContribution,
    GroupContribution,
    ModelExplanation,
    as_of_text,
)

__all__ = ["explain"]


def explain(models: ModelPair, request: AssessRequest) -> list[ModelExplanation]:
    """Contributions on the log-odds and probability scales, with the base value, and grouped
    back to clinical variables."""
    patient = request.to_input()
    columns = record_columns([patient])
    out = []
    for outcome, model in models.items():
        bundle = model.bundle
        c = bundle.explain(columns)
        values = bundle.features.transform(columns).iloc[0]
        p_inputs = c.on_probability_scale(c.values)[0]
        p_groups = c.on_probability_scale(c.group_values)[0]
        members = bundle.group_members()
        features = [
            FeatureContribution(
                feature=name,
                label=bundle.label(name),
                value=_value(name, patient.record, values),
                log_odds=float(c.values[0, k]),
                probability=float(p_inputs[k]),
            )
            for k, name in enumerate(c.input_names)
        ]
        groups = [
            GroupContribution(
                variable=g,
                label=bundle.label(g),
                members=members[g],
                log_odds=float(c.group_values[0, j]),
                probability=float(p_groups[j]),
            )
            for j, g in enumerate(c.group_names)
        ]
        out.append(
            ModelExplanation(
                outcome=outcome,
                model=model_ref(model),
                base_log_odds=float(c.base_value[0]),
                base_probability=float(1 / (1 + np.exp(-c.base_value[0]))),
                log_odds=float(c.log_odds[0]),
                probability=float(c.probability[0]),
                contributions=features,
                grouped=groups,
                as_of_week=patient.week,
                landmark_week=bundle.answering_landmark(patient.week),
                as_of=as_of_text(
                    patient.week,
                    bundle.answering_landmark(patient.week),
                    bundle.answering_landmark(1e9),
                ),
            )
        )
    return out


def _value(name: str, record: dict[str, Any], values: pd.Series) -> Any:
    """The patient's value of a model input: as given, or as derived (None when missing)."""
    if name in record:
        v = record[name]
        return float(v) if isinstance(v, bool | int) else v
    v = values[name]  # derived, or a history level the service filled in (week 0: 'none')
    return None if pd.isna(v) else v if isinstance(v, str) else float(v)
