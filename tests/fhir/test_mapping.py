"""The FHIR -> AssessRequest mapping: units, limits from reference ranges, defaults, reporting."""

from __future__ import annotations

import copy
from datetime import date

import pytest
from fhir_support import example

from hepatorisk.fhir import map_bundle
from hepatorisk.fhir.labs import default_limit

AS_OF = date(2026, 11, 26)


def _entry(raw: dict, rid: str) -> dict:
    return next(e["resource"] for e in raw["entry"] if e["resource"].get("id") == rid)


def test_example_maps_to_the_service_request():
    m = map_bundle(example("fhir_bundle_kratom_patient.json"), as_of=AS_OF)
    assert not m.issues.errors, m.issues.items
    req = m.request
    assert req.demographics.age == 39 and req.demographics.sex == "female"  # born 1987-03-14
    assert req.treatment.moud == "buprenorphine"
    assert (req.kratom.product, req.kratom.dose_g_day) == ("extract", 15.0)  # 5 g x 3 / day
    assert req.medications.acetaminophen is True and req.medications.statin is False
    assert req.hepatitis.hcv_antibody is True and req.hepatitis.hbv_surface_antigen is False
    assert (req.demographics.bmi, req.alcohol_audit_c) == (24.1, 2)
    assert req.labs.alt.value == 118 and req.labs.alt.uln == 35  # latest, referenceRange.high
    assert [p.value for p in m.series["alt"]] == [28, 61, 118]


def test_bilirubin_umol_l_is_converted_by_the_service():
    m = map_bundle(example("fhir_bundle_kratom_patient.json"), as_of=AS_OF)
    bili = m.request.labs.bilirubin
    assert (bili.unit, bili.value, bili.uln) == ("umol/L", 22, 21)
    value, uln = bili.mg_dl()
    assert value == pytest.approx(22 / 17.1) and uln == pytest.approx(21 / 17.1)
    assert m.request.to_input().liver.bilirubin_xuln == pytest.approx(22 / 21)


def test_reference_range_in_another_unit_and_si_units_are_converted():
    raw = example("fhir_bundle_kratom_patient.json")
    tbil = _entry(raw, "tbil-3")
    tbil["referenceRange"][0]["high"] = {  # UCUM: 1 mmol/L = 1000 umol/L
        "value": 0.0205,
        "code": "mmol/L",
        "system": "http://unitsofmeasure.org",
    }
    alt = _entry(raw, "alt-3")
    alt["valueQuantity"] |= {"value": 2.0, "code": "ukat/L", "unit": "ukat/L"}
    alt["referenceRange"][0]["high"] |= {"value": 0.5, "code": "ukat/L", "unit": "ukat/L"}
    m = map_bundle(raw, as_of=AS_OF)
    assert m.request.labs.bilirubin.uln == pytest.approx(20.5)  # into the value's unit
    assert (m.request.labs.alt.value, m.request.labs.alt.uln) == (120.0, 30.0)  # 1 ukat/L = 60 U/L
    assert m.request.labs.albumin.value == pytest.approx(4.1)  # 41 g/L


def test_missing_reference_range_uses_the_documented_default_and_says_so():
    raw = example("fhir_bundle_kratom_patient.json")
    del _entry(raw, "alt-3")["referenceRange"]
    m = map_bundle(raw, as_of=AS_OF)
    assert m.request.labs.alt.uln == default_limit("alt", "female")
    assert m.latest["alt"].limit_from == "default"
    notes = [
        i
        for i in m.issues.items
        if "default ULN" in i["diagnostics"]
        and i["expression"] == ["Bundle.entry[3].resource.referenceRange"]
    ]
    assert notes and notes[0]["severity"] == "information"


def test_unusable_values_are_reported_not_dropped():
    raw = example("fhir_bundle_kratom_patient.json")
    _entry(raw, "ast-3")["valueQuantity"] |= {"code": "mmol/L", "unit": "mmol/L"}
    _entry(raw, "alt-2")["status"] = "entered-in-error"
    other = copy.deepcopy(_entry(raw, "alt-3")) | {
        "id": "alt-x",
        "subject": {"reference": "Patient/someone-else"},
    }
    raw["entry"].append({"resource": other})
    m = map_bundle(raw, as_of=AS_OF)
    assert m.request.labs.ast is None and [p.value for p in m.series["alt"]] == [28, 118]
    said = {(i["severity"], i["expression"][0]) for i in m.issues.items if "expression" in i}
    assert ("warning", "Bundle.entry[4].resource.valueQuantity.code") in said
    assert ("warning", "Bundle.entry[2].resource.status") in said
    assert ("warning", f"Bundle.entry[{len(raw['entry']) - 1}].resource.subject.reference") in said


PLANT = "MRN-PLANT"


def _diagnostics(raw: dict) -> dict[str, str]:
    """Every issue of the mapping, expression -> diagnostics (no plant may be quoted)."""
    m = map_bundle(raw, as_of=AS_OF)
    return {i["expression"][0]: i["diagnostics"] for i in m.issues.items if "expression" in i}


def test_diagnostics_name_the_element_and_allowed_values_never_the_callers_string():
    raw = example("fhir_bundle_kratom_patient.json")
    _entry(raw, "alt-2")["status"] = f"{PLANT}-status"
    _entry(raw, "ast-3")["valueQuantity"] |= {"code": f"{PLANT}-unit", "unit": f"{PLANT}-u"}
    _entry(raw, "alp-3")["referenceRange"][0]["high"] |= {"code": f"{PLANT}-rr", "unit": "x"}
    _entry(raw, "ms-apap")["status"] = f"{PLANT}-med-status"
    other = copy.deepcopy(_entry(raw, "alt-3")) | {
        "id": "alt-x",
        "subject": {"reference": f"Patient/{PLANT}-other"},
    }
    med = copy.deepcopy(_entry(raw, "ms-bup")) | {"id": "ms-ref"}
    del med["medicationCodeableConcept"]
    med["medicationReference"] = {"reference": f"Medication/{PLANT}-med"}
    raw["entry"] += [{"resource": other}, {"resource": med}]
    said = _diagnostics(raw)
    assert PLANT not in repr(said)
    n = len(raw["entry"])
    assert "final, amended, corrected" in said["Bundle.entry[2].resource.status"]
    assert "U/L" in said["Bundle.entry[4].resource.valueQuantity.code"]
    assert "U/L" in said["Bundle.entry[5].resource.referenceRange[0].high"]
    assert "active" in said["Bundle.entry[18].resource.status"]
    assert "Patient assessed" in said[f"Bundle.entry[{n - 2}].resource.subject.reference"]
    assert "Medication" in said[f"Bundle.entry[{n - 1}].resource.medicationReference"]


@pytest.mark.parametrize(
    ("mutate", "expression", "allowed"),
    [
        (
            lambda raw: raw["entry"][0]["resource"].update(gender=f"{PLANT}-gender"),
            "Bundle.entry[0].resource.gender",
            "male or female",
        ),
        (
            lambda raw: raw.update(resourceType=f"{PLANT}-type"),
            "Bundle.resourceType",
            "must be Bundle",
        ),
        (
            lambda raw: raw["entry"][5]["resource"].update(resourceType=f"{PLANT}-type"),
            "Bundle.entry[5].resource.resourceType",
            "R4 resource type",
        ),
    ],
)
def test_refusals_do_not_quote_the_callers_string(mutate, expression, allowed):
    raw = example("fhir_bundle_kratom_patient.json")
    mutate(raw)
    m = map_bundle(raw, as_of=AS_OF)
    assert m.request is None
    [error] = [i for i in m.issues.errors if i.get("expression") == [expression]]
    assert allowed in error["diagnostics"] and PLANT not in repr(m.issues.items)


@pytest.mark.parametrize(
    ("element", "sent", "expected"),
    [
        ("entry.3.resource.valueQuantity.value", "48", "a JSON number"),
        ("entry.3.resource.referenceRange.0.high.value", "35", "a JSON number"),
        ("entry.15.resource.valueInteger", "3", "a JSON number"),
        ("entry.0.resource.active", "true", "a JSON boolean"),
        ("entry.0.resource.active", 1, "a JSON boolean"),
        ("entry.0.resource.contained", [{"resourceType": "Observation", "status": "final",
          "code": {"text": "x"}, "valueQuantity": {"value": "1"}}], "a JSON number"),
    ],
)  # fmt: skip
def test_numbers_and_booleans_must_have_their_json_type(element, sent, expected):
    """fhir.resources reads "48" as 48 and "true" as True: the mapping refuses them instead,
    naming the element (an index for arrays) and the JSON type R4 requires."""
    raw = example("fhir_bundle_kratom_patient.json")
    node = raw
    keys = [int(k) if k.isdigit() else k for k in element.split(".")]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = sent
    m = map_bundle(raw, as_of=AS_OF)
    assert m.request is None
    path = "Bundle" + "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys)
    if element.endswith("contained"):
        path += "[0].valueQuantity.value"
    [error] = m.issues.errors
    assert error["expression"] == [path] and expected in error["diagnostics"], error
