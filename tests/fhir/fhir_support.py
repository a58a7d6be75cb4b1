"""Builders for the FHIR tests: R4 Bundles from synthetic patients and the equivalent JSON body.

The JSON body carries exactly what the Bundle can say (no race, opioid-use history or
mitragynine content: the FHIR mapping does not read them), so both must assess the same.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
from service_support import SAMPLE, TestClient, export, make_settings, running

from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.settings import Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LOINC, UCUM = "http://loinc.org", "http://unitsofmeasure.org"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
MODEL_CARD = "https://hepatorisk.example.org/model-card"
AUDIENCE = "https://cds.example.org/cds-services"


def cds_settings(base: Settings, **overrides: Any) -> Settings:
    """``base`` with the CDS Hooks settings the FHIR tests use (and ``overrides``).

    Lives here, not in ``conftest``: in the full suite the module name ``conftest`` can
    resolve to another folder's conftest, so tests import it from this uniquely named module.
    """
    values = {
        "model_card_url": MODEL_CARD,
        "cds_audience": AUDIENCE,
        "cds_fhir_server_allow_http": True,
        "cds_http_timeout": 2.0,
        **overrides,
    }
    return Settings(**{**base.model_dump(), **values})  # validated, as at start-up


@contextmanager
def serving(root: Path, bundle: Callable[[str, str], ModelBundle]) -> Iterator[TestClient]:
    """The service (CDS settings as above) on both models made by ``bundle(outcome, name)``,
    exported under ``root``."""
    dirs = {
        "liver": export(bundle("liver_event_12w", "hepatorisk-liver"), root / "l", "1"),
        "relapse": export(bundle("relapse_12w", "hepatorisk-relapse"), root / "r", "1"),
    }
    with running(cds_settings(make_settings(dirs, root))) as client:
        yield client


def example(name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / name).read_text())


def synthetic_rows(n: int) -> list[dict[str, Any]]:
    """``n`` patients of the committed sample, kratom users and non-users mixed."""
    p = load_cohort(SAMPLE).patients
    users = p[p.kratom_product != "none"].head(n - n // 3)
    others = p[p.kratom_product == "none"].head(n // 3)
    return [r.to_dict() for _, r in pd.concat([users, others]).iterrows()]


def _obs(
    i: str,
    code: str,
    value: float,
    unit: str,
    high: float | None = None,
    low: float | None = None,
    when: str = "2026-11-20",
) -> dict[str, Any]:
    q = {"value": value, "unit": unit, "system": UCUM, "code": unit}
    r: dict[str, Any] = {
        "resourceType": "Observation",
        "id": i,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": when,
        "valueQuantity": q,
    }
    bound = {k: {**q, "value": v} for k, v in (("high", high), ("low", low)) if v is not None}
    if bound:
        r["referenceRange"] = [bound]
    return r


def _presence(i: str, code: str, positive: bool) -> dict[str, Any]:
    concept = {
        "coding": [
            {"system": "http://snomed.info/sct", "code": "10828004" if positive else "260385009"}
        ]
    }
    return {
        "resourceType": "Observation",
        "id": i,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "valueCodeableConcept": concept,
    }


def _med(i: str, text: str, dose_g: float | None = None) -> dict[str, Any]:
    r: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": i,
        "status": "active",
        "medicationCodeableConcept": {"text": text},
        "subject": {"reference": "Patient/p"},
    }
    if dose_g is not None:
        r["dosage"] = [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                "doseAndRate": [
                    {"doseQuantity": {"value": dose_g, "unit": "g", "system": UCUM, "code": "g"}}
                ],
            }
        ]
    return r


def _condition(i: str, icd10: str) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": i,
        "subject": {"reference": "Patient/p"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": icd10}]},
    }


MOUD_TEXT = {
    "buprenorphine": "buprenorphine 8 mg / naloxone 2 mg film",
    "methadone": "methadone 10 mg/mL oral solution",
    "xr_naltrexone": "naltrexone 380 mg extended-release injectable suspension",
}
PRODUCT_TEXT = {
    "leaf_powder": "kratom leaf powder",
    "extract": "kratom extract",
    "tablet": "kratom capsules",
}
MED_TEXT = {
    "med_acetaminophen": "acetaminophen 500 mg tablet",
    "med_statin": "atorvastatin 20 mg tablet",
    "med_other_hepatotoxic": "isoniazid 300 mg tablet",
    "med_cyp_interacting": "clarithromycin 500 mg tablet",
}


def record_bundle(row: dict[str, Any], as_of: date, si_bilirubin: bool = False) -> dict[str, Any]:
    """A FHIR R4 Bundle saying what ``row`` (a synthetic patient) says that FHIR can carry."""
    f = 17.1 if si_bilirubin else 1.0
    bili_unit = "umol/L" if si_bilirubin else "mg/dL"
    rs: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": "p",
            "gender": row["sex"],
            "birthDate": f"{as_of.year - int(row['age'])}-01-01",
        },
        _obs("alt", "1742-6", row["alt_u_l"], "U/L", high=row["alt_uln_u_l"]),
        _obs("ast", "1920-8", row["ast_u_l"], "U/L", high=row["ast_uln_u_l"]),
        _obs("alp", "6768-6", row["alp_u_l"], "U/L", high=row["alp_uln_u_l"]),
        _obs(  # SI bilirubin is LOINC 14631-6 (substance concentration), not 1975-2
            "tbil",
            "14631-6" if si_bilirubin else "1975-2",
            row["bilirubin_mg_dl"] * f,
            bili_unit,
            high=row["bilirubin_uln_mg_dl"] * f,
        ),
        *[  # the labs the cohort leaves undrawn are simply not in the record
            _obs(i, code, row[column], unit, **{side: row[limit]})
            for i, code, column, unit, side, limit in (
                ("ggt", "2324-2", "ggt_u_l", "U/L", "high", "ggt_uln_u_l"),
                ("alb", "1751-7", "albumin_g_dl", "g/dL", "low", "albumin_lln_g_dl"),
                ("inr", "6301-6", "inr", "{INR}", "high", "inr_uln"),
                ("plt", "777-3", "platelets_10e9_l", "10*9/L", "low", "platelets_lln_10e9_l"),
            )
            if not pd.isna(row[column])
        ],
        _obs("bmi", "39156-5", row["bmi"], "kg/m2"),
        _obs("auditc", "75626-2", row["audit_c"], "{score}"),
        _presence("hcv", "16128-1", bool(row["hcv_antibody"])),
        _presence("hbsag", "5196-1", bool(row["hbv_surface_antigen"])),
        _med("other", "ondansetron 4 mg tablet"),
    ]
    if row["moud_arm"] != "none":
        rs.append(_med("moud", MOUD_TEXT[row["moud_arm"]]))
    if row["kratom_product"] != "none":
        rs.append(_med("kratom", PRODUCT_TEXT[row["kratom_product"]], row["kratom_dose_g_day"]))
    rs += [_med(k.replace("_", "-"), text) for k, text in MED_TEXT.items() if row[k]]
    if row["hiv"]:
        rs.append(_condition("hiv", "B20"))
    if row["diabetes"]:
        rs.append(_condition("dm", "E11.9"))
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in rs]}


def _drawn(**labs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The labs whose value is known (the cohort leaves some undrawn)."""
    return {name: lab for name, lab in labs.items() if not pd.isna(lab["value"])}


def record_body(row: dict[str, Any]) -> dict[str, Any]:
    """The /v1/assess body with the same information as ``record_bundle(row)``."""
    kratom = row["kratom_product"] != "none"
    return {
        "patient_ref": "p",
        "demographics": {
            "age": int(row["age"]),
            "sex": row["sex"],
            "bmi": row["bmi"],
            "diabetes": True if row["diabetes"] else None,
        },
        "treatment": {"moud": row["moud_arm"]},
        "kratom": {
            "product": row["kratom_product"],
            "dose_g_day": row["kratom_dose_g_day"] if kratom else 0.0,
        },
        "labs": {
            "alt": {"value": row["alt_u_l"], "unit": "U/L", "uln": row["alt_uln_u_l"]},
            "ast": {"value": row["ast_u_l"], "unit": "U/L", "uln": row["ast_uln_u_l"]},
            "alp": {"value": row["alp_u_l"], "unit": "U/L", "uln": row["alp_uln_u_l"]},
            "bilirubin": {
                "value": row["bilirubin_mg_dl"],
                "unit": "mg/dL",
                "uln": row["bilirubin_uln_mg_dl"],
            },
            **_drawn(
                ggt={"value": row["ggt_u_l"], "unit": "U/L", "uln": row["ggt_uln_u_l"]},
                albumin={
                    "value": row["albumin_g_dl"],
                    "unit": "g/dL",
                    "lln": row["albumin_lln_g_dl"],
                },
                inr={"value": row["inr"], "uln": row["inr_uln"]},
                platelets={
                    "value": row["platelets_10e9_l"],
                    "unit": "10^9/L",
                    "lln": row["platelets_lln_10e9_l"],
                },
            ),
        },
        "hepatitis": {
            "hcv_antibody": bool(row["hcv_antibody"]),
            "hbv_surface_antigen": bool(row["hbv_surface_antigen"]),
            "hiv": True if row["hiv"] else None,
        },
        "alcohol_audit_c": int(row["audit_c"]),
        "medications": {k.removeprefix("med_"): bool(row[k]) for k in MED_TEXT},
    }
