"""A synthetic-cohort patient rebuilt as an API request with a treatment course: the key check
that the service's history inputs are the training table's (``cohorts.history``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

START = date(2026, 1, 5)  # a Monday: week w of treatment starts on START + 7w days


def _v(x: Any) -> Any:
    """A cohort value as JSON: missing -> None, numpy scalars -> Python."""
    if x is None or x is pd.NA or (isinstance(x, float) and x != x):
        return None
    return x.item() if hasattr(x, "item") else x


def _day(week: int) -> str:
    return (START + timedelta(weeks=week, days=1)).isoformat()


def _panel(row: Any, uln: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, column in (("alt", "alt_u_l"), ("ast", "ast_u_l"), ("alp", "alp_u_l")):
        out[name] = {"unit": "U/L", "value": _v(row[column])}
        if uln is not None:
            out[name]["uln"] = _v(uln[f"{name}_uln_u_l"])
    out["bilirubin"] = {"unit": "mg/dL", "value": _v(row["bilirubin_mg_dl"])}
    if uln is not None:
        out["bilirubin"]["uln"] = _v(uln["bilirubin_uln_mg_dl"])
    return out


def cohort_request(p: pd.Series, visits: pd.DataFrame, week: int) -> dict[str, Any]:
    """The request of patient ``p`` (a patients row) assessed in week ``week``, with its visits
    of weeks 1..week as the course; the latest panel by then is the labs section."""
    mine = visits[(visits["patient_id"] == p["patient_id"]) & visits["week"].between(1, week)]
    drawn = mine[mine["attended"] & mine["alt_u_l"].notna()]
    panels = [{"date": (START - timedelta(days=2)).isoformat(), **_panel(p)}]
    panels += [{"date": _day(int(r["week"])), **_panel(r)} for _, r in drawn.iterrows()]
    latest = panels.pop()
    labs_date = latest.pop("date")
    labs = _panel(drawn.iloc[-1] if len(drawn) else p, uln=p)
    course_visits = []
    for _, r in mine.iterrows():
        v: dict[str, Any] = {"date": _day(int(r["week"])), "attended": bool(r["attended"])}
        if r["attended"]:
            v |= {
                "opioid_screen": _v(r["uds_opioid"]),
                "kratom_dose_g_day": _v(r["kratom_dose_g"]),
                "cows": _v(r["cows"]),
                "craving": _v(r["craving"]),
            }
        course_visits.append({k: x for k, x in v.items() if x is not None})
    product = _v(p["kratom_product"])
    kratom = {
        "product": product,
        "dose_g_day": _v(p["kratom_dose_g_day"]),
        "mitragynine_mg_per_g": _v(p["mitragynine_mg_per_g"]),
        "use_weeks": _v(p["kratom_use_weeks"]) if product != "none" else None,
    }
    request = {
        "demographics": {
            "age": _v(p["age"]), "sex": _v(p["sex"]), "race_ethnicity": _v(p["race_ethnicity"]),
            "bmi": _v(p["bmi"]), "diabetes": _v(p["diabetes"]),
        },
        "hepatitis": {
            "hcv_antibody": _v(p["hcv_antibody"]),
            "hbv_surface_antigen": _v(p["hbv_surface_antigen"]), "hiv": _v(p["hiv"]),
        },
        "alcohol_audit_c": _v(p["audit_c"]),
        "opioid_use": {
            "primary_opioid": _v(p["primary_opioid"]), "heroin_days_30": _v(p["heroin_days_30"]),
            "injection_drug_use": _v(p["injection_drug_use"]), "cocaine_use": _v(p["cocaine_use"]),
            "prior_treatments": _v(p["prior_treatments"]),
            "recent_opioid_urine_screen": _v(p["uds_opioid_entry"]),
        },
        "social": {"stable_housing": _v(p["stable_housing"]), "employed": _v(p["employed"])},
        "treatment": {
            "moud": _v(p["moud_arm"]), "cows": _v(p["cows_entry"]),
            "craving": _v(p["craving_entry"]), "chronic_pain": _v(p["chronic_pain"]),
        },
        "kratom": kratom,
        "medications": {
            "acetaminophen": _v(p["med_acetaminophen"]), "statin": _v(p["med_statin"]),
            "other_hepatotoxic": _v(p["med_other_hepatotoxic"]),
            "cyp_interacting": _v(p["med_cyp_interacting"]),
        },
        "labs": labs,
        "course": {
            "treatment_start": START.isoformat(),
            "as_of": _day(week),
            "labs_date": labs_date,
            "panels": panels,
            "visits": course_visits,
        },
    }  # fmt: skip
    return _drop_none(request)


def _drop_none(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _drop_none(v) for k, v in x.items() if v is not None}
    if isinstance(x, list):
        return [_drop_none(v) for v in x]
    return x
