"""The request's kratom history and chronic pain, and unknown values kept unknown: a value left
out reaches the models as missing (NaN), never as 0 or "no"."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError
from service_support import patient

from hepatorisk.assessment.inputs import RECORD_COLUMNS, record_columns
from hepatorisk.assessment.request import MAX_KRATOM_WEEKS, AssessRequest
from hepatorisk.clinical.monitoring import KratomExposure

KRATOM = {"product": "leaf_powder", "dose_g_day": 8.0, "mitragynine_mg_per_g": 1.5}


def _input(**sections):
    return AssessRequest.model_validate(patient(**sections)).to_input()


def test_kratom_durations_reach_the_schedule_and_the_record():
    p = _input(kratom=KRATOM | {"use_weeks": 20, "weeks_since_dose_increase": 3})
    assert p.exposure == KratomExposure(taking=True, use_weeks=20, weeks_since_dose_increase=3)
    if "kratom_use_weeks" in RECORD_COLUMNS:  # the cohort v2 column (issue 12)
        assert p.record["kratom_use_weeks"] == 20
        assert record_columns([p])["kratom_use_weeks"].tolist() == [20.0]
    else:
        assert "kratom_use_weeks" not in p.record
    unknown = _input()
    assert unknown.exposure == KratomExposure(taking=True)
    if "kratom_use_weeks" in RECORD_COLUMNS:
        assert math.isnan(record_columns([unknown])["kratom_use_weeks"][0])


def test_no_kratom_is_no_exposure():
    p = _input(kratom={"product": "none", "dose_g_day": 0})
    assert p.exposure.taking is False
    assert _input(kratom={"product": "extract", "dose_g_day": 0}).exposure.taking is False


@pytest.mark.parametrize("field", ["use_weeks", "weeks_since_dose_increase"])
def test_kratom_durations_are_refused_out_of_range_and_without_a_product(field):
    ok = patient(kratom=KRATOM | {field: MAX_KRATOM_WEEKS})
    assert AssessRequest.model_validate(ok)
    for bad in (-1, MAX_KRATOM_WEEKS + 1, 2.5, "4", True):
        with pytest.raises(ValidationError) as e:
            AssessRequest.model_validate(patient(kratom=KRATOM | {field: bad}))
        assert e.value.errors()[0]["loc"] == ("kratom", field)
    with pytest.raises(ValidationError, match="left out when product is 'none'") as e:
        AssessRequest.model_validate(patient(kratom={"product": "none", "dose_g_day": 0, field: 4}))
    assert e.value.errors()[0]["loc"] == ("kratom", field)
    # null is "left out"
    none = patient(kratom={"product": "none", "dose_g_day": 0, field: None})
    assert AssessRequest.model_validate(none).to_input().exposure.taking is False


def test_the_no_duration_without_a_product_rule_is_in_the_json_schema():
    """Clients see the rule: with product 'none' the durations must be null or left out."""
    kratom = AssessRequest.model_json_schema()["$defs"]["Kratom"]
    for field in ("use_weeks", "weeks_since_dose_increase"):
        assert {"type": "integer", "minimum": 0, "maximum": MAX_KRATOM_WEEKS} in kratom[
            "properties"
        ][field]["anyOf"]
    no_product = next(b for b in kratom["anyOf"] if "dose_g_day" in b["properties"])
    assert no_product["properties"]["use_weeks"] == {"type": "null"}
    assert no_product["properties"]["weeks_since_dose_increase"] == {"type": "null"}


def test_chronic_pain_maps_to_the_record_when_the_model_reads_it():
    p = _input(treatment={"moud": "methadone", "chronic_pain": True})
    if "chronic_pain" in RECORD_COLUMNS:  # the cohort v2 column (issue 12)
        assert p.record["chronic_pain"] is True
        assert record_columns([p])["chronic_pain"].tolist() == [1.0]
        assert math.isnan(record_columns([_input()])["chronic_pain"][0])
    else:
        assert "chronic_pain" not in p.record
    with pytest.raises(ValidationError):
        AssessRequest.model_validate(
            patient(treatment={"moud": "methadone", "chronic_pain": "yes"})
        )


def test_every_record_key_is_a_record_column():
    p = _input(
        treatment={"moud": "methadone", "chronic_pain": False},
        kratom=KRATOM | {"use_weeks": 4},
    )
    assert set(p.record) <= set(RECORD_COLUMNS)


def test_unknown_social_and_lab_values_stay_unknown():
    """Housing, employment, injection history and INR, GGT, platelets and albumin left out (the
    cohort has them missing too) are missing in the model's columns, not 0 or False."""
    body = patient(
        social={},
        opioid_use={"primary_opioid": "heroin"},
        labs={
            "alt": {"value": 30, "unit": "U/L", "uln": 40},
            "alp": {"value": 90, "unit": "U/L", "uln": 115},
            "bilirubin": {"value": 0.6, "unit": "mg/dL", "uln": 1.0},
        },
    )
    p = AssessRequest.model_validate(body).to_input()
    columns = record_columns([p])
    unknown = [
        "stable_housing",
        "employed",
        "injection_drug_use",
        "inr",
        "inr_uln",
        "ggt_u_l",
        "platelets_10e9_l",
        "albumin_g_dl",
        "ast_u_l",
    ]
    for name in unknown:
        assert p.record[name] is None, name
        assert math.isnan(columns[name][0]), name
    # "no" stays a known 0, distinct from unknown
    known = AssessRequest.model_validate(
        patient(social={"stable_housing": False, "employed": False})
    ).to_input()
    assert record_columns([known])["stable_housing"].tolist() == [0.0]
    # and the guideline rules do not read a missing INR as normal
    assert p.liver.inr is None
