"""A record without history is a week-0 assessment on the landmark models (issue 13): the
service builds its history from the baseline record with the training code (``cohorts.history``),
answers as the model answers the week-0 training row, and never counts a history feature as an
unknown input, however much of the baseline record is left out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from service_support import SAMPLE, patient

from hepatorisk.assessment import AssessRequest, assess, load_model_pair
from hepatorisk.assessment.inputs import BASELINE_COLUMNS, PatientInput, record_columns
from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.cohorts.history import HISTORY_COLUMNS, history_features
from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.modeling.bundle import ModelBundle


@pytest.fixture(scope="module")
def models(model_dirs: dict[str, Path]):  # type: ignore[no-untyped-def]
    return load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))


def test_the_models_read_history_and_a_baseline_record_gets_the_week0_answer(
    bundles: dict[str, ModelBundle],
) -> None:
    cohort = load_cohort(SAMPLE)
    patients = cohort.patients.head(40)
    inputs = []
    for row in patients.to_dict("records"):
        record = {c: (None if pd.isna(row[c]) else row[c]) for c in BASELINE_COLUMNS}
        inputs.append(PatientInput(record=record, liver=None))  # type: ignore[arg-type]
    columns = record_columns(inputs)
    week0 = history_features(patients, cohort.visits, (0,)).reset_index(drop=True)
    training_rows = pd.concat(
        [patients.drop(columns="patient_id").reset_index(drop=True), week0[list(HISTORY_COLUMNS)]],
        axis=1,
    )
    for bundle in bundles.values():
        assert set(HISTORY_COLUMNS) <= set(bundle.input_columns)
        served = bundle.predict_proba(columns)
        trained = bundle.predict_proba(training_rows)
        np.testing.assert_allclose(served, trained, rtol=1e-9, atol=1e-12)
        # the history moves the answer: the same records at week 8 are scored differently
        later = history_features(patients, cohort.visits, (8,)).reset_index(drop=True)
        at8 = training_rows.copy()
        at8[list(HISTORY_COLUMNS)] = later[list(HISTORY_COLUMNS)].to_numpy()
        assert np.abs(bundle.predict_proba(at8) - served).max() > 0.01


def test_no_history_feature_is_an_unknown_input_at_week0(models) -> None:  # type: ignore[no-untyped-def]
    sparse = patient(
        labs={
            "alt": {"value": 30, "unit": "U/L", "uln": 40},
            "alp": {"value": 90, "unit": "U/L", "uln": 120},
            "bilirubin": {"value": 0.6, "unit": "mg/dL", "uln": 1.2},
        },
        treatment={"moud": "buprenorphine"},  # withdrawal and craving left out
    )
    [a] = assess(models, [AssessRequest.model_validate(sparse).to_input()], load_policy())
    unknown = {u.variable for u in a.unknown_inputs}
    assert {"cows_entry", "craving_entry", "ast_u_l"} <= unknown
    history = set(HISTORY_COLUMNS) | {
        name for m in (models.liver, models.relapse) for name in m.bundle.features.derived or {}
    }
    assert not unknown & history, unknown & history
    for risk in a.risks:
        assert 0 < risk.probability < 1
