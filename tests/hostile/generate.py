"""Write ``catalogue.jsonl``: the generated part of the hostile-input catalogue.

Run ``python tests/hostile/generate.py`` after a change of the patient record; the hand-written
entries are in ``hand_written.jsonl``. One JSON object per line:

* ``id``, ``class``: a unique name and the class the closing counts are given by;
* ``method``, ``path``, ``content_type`` (``null``: no header);
* the body, exactly as sent: ``body`` (text, sent as UTF-8), ``body_b64`` (bytes), or ``repeat``
  (``[prefix, opening, closing, times, suffix]``: prefix + opening * times + closing * times +
  suffix, for bodies too large to store);
* ``status``: the 4xx the service must answer; ``field``: the field the error must name
  (``null``: the body as a whole, for 400, 413 and 415).

Every entry is refused: the catalogue holds no request the service may accept, so an accepted
one is always a failure (nothing is accepted with a changed meaning).
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parents[1] / "examples"
HOOK = "/cds-services/hepatorisk-liver-safety"
FHIR = "/fhir/RiskAssessment/$assess"
MARK = "__HOSTILE_VALUE__"

RECORD: dict[str, Any] = {
    "patient_ref": "MRN-0042-SECRET",
    "demographics": {
        "age": 41,
        "sex": "male",
        "race_ethnicity": "hispanic",
        "bmi": 27.5,
        "diabetes": False,
    },
    "treatment": {"moud": "buprenorphine", "cows": 6, "craving": 40},
    "kratom": {"product": "leaf_powder", "dose_g_day": 8.0, "mitragynine_mg_per_g": 1.5},
    "labs": {
        "alt": {"value": 48, "unit": "U/L", "uln": 33},
        "ast": {"value": 40, "unit": "U/L", "uln": 48},
        "alp": {"value": 90, "unit": "U/L", "uln": 115},
        "ggt": {"value": 60, "unit": "U/L", "uln": 61},
        "bilirubin": {"value": 0.8, "unit": "mg/dL", "uln": 1.0},
        "albumin": {"value": 4.1, "unit": "g/dL", "lln": 3.5},
        "inr": {"value": 1.0, "uln": 1.1},
        "platelets": {"value": 250, "unit": "10^9/L", "lln": 150},
    },
    "hepatitis": {"hcv_antibody": True, "hbv_surface_antigen": False, "hiv": False},
    "alcohol_audit_c": 3,
    "opioid_use": {
        "primary_opioid": "fentanyl",
        "heroin_days_30": 20,
        "injection_drug_use": True,
        "cocaine_use": False,
        "prior_treatments": 2,
        "recent_opioid_urine_screen": "positive",
    },
    "social": {"stable_housing": True, "employed": False},
    "medications": {
        "acetaminophen": True,
        "statin": False,
        "other_hepatotoxic": False,
        "cyp_interacting": False,
    },
    "history": {
        "baseline_alt": 30,
        "baseline_ast": 28,
        "baseline_alp": 80,
        "baseline_bilirubin": {"value": 0.6, "unit": "mg/dL"},
        "days_alt_or_ast_above_5x_uln": 0,
    },
    "symptoms": {
        "fatigue": False,
        "nausea_or_vomiting": False,
        "ruq_pain": False,
        "fever": False,
        "rash": False,
        "eosinophils_percent": 2.0,
    },
}


def _leaves(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _leaves(value, f"{path}.")
        else:
            out.append((path, value))
    return out


LEAVES = _leaves(RECORD)
NUMBERS = [p for p, v in LEAVES if isinstance(v, int | float) and not isinstance(v, bool)]
BOOLEANS = [p for p, v in LEAVES if isinstance(v, bool)]
# where each JSON API route carries the record
ROUTES = {
    "/v1/assess": ("", lambda r: r),
    "/v1/predict": ("", lambda r: r),
    "/v1/explain": ("", lambda r: r),
    "/v1/assess/batch": ("patients.0.", lambda r: {"patients": [r], "explain": False}),
}


def _set(body: Any, path: str, value: Any) -> Any:
    body = copy.deepcopy(body)
    node = body
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for k in keys[:-1]:
        node = node[k]
    node[keys[-1]] = value
    return body


def _raw(body: Any, path: str, token: str) -> str:
    """``body`` with the value at ``path`` replaced by the JSON text ``token`` (e.g. ``NaN``)."""
    return json.dumps(_set(body, path, MARK)).replace(json.dumps(MARK), token)


def _entry(
    id_: str,
    cls: str,
    path: str,
    status: int,
    field: str | None,
    body: str | bytes | None = None,
    content_type: str | None = "application/json",
    **extra: Any,
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": id_,
        "class": cls,
        "method": "POST",
        "path": path,
        "content_type": content_type,
        "status": status,
        "field": field,
    }
    if isinstance(body, bytes):
        e["body_b64"] = base64.b64encode(body).decode()
    elif body is not None:
        e["body"] = body
    return e | extra


def record_entries() -> list[dict[str, Any]]:
    out = []
    # every numeric field, every non-finite spelling, on /v1/assess; a sample on the others
    for field in NUMBERS:
        for token in ("NaN", "Infinity", "-Infinity", "1e400"):
            out.append(
                _entry(
                    f"non-finite {token} {field}",
                    "non_finite_number",
                    "/v1/assess",
                    422,
                    field,
                    _raw(RECORD, field, token),
                )
            )
    for route, (prefix, wrap) in ROUTES.items():
        if route != "/v1/assess":
            for token in ("NaN", "-1e999"):
                f = f"{prefix}labs.alt.value"
                out.append(
                    _entry(
                        f"non-finite {token} {f} on {route}",
                        "non_finite_number",
                        route,
                        422,
                        f,
                        _raw(wrap(RECORD), f, token),
                    )
                )
    # a boolean or a string where a number goes; a number or a string where a boolean goes
    wrong_tokens = [(NUMBERS, ("true", '"48"')),
                    (BOOLEANS, ("1", "0", '"true"', '"no"', '"off"', '"Y"'))]  # fmt: skip
    for fields, tokens in wrong_tokens:
        for field in fields:
            for token in tokens:
                out.append(
                    _entry(
                        f"wrong type {token} {field}",
                        "wrong_type",
                        "/v1/assess",
                        422,
                        field,
                        _raw(RECORD, field, token),
                    )
                )
    batch = ROUTES["/v1/assess/batch"][1](RECORD)
    for token in ("1", '"false"'):
        out.append(
            _entry(
                f"wrong type {token} explain",
                "wrong_type",
                "/v1/assess/batch",
                422,
                "explain",
                _raw(batch, "explain", token),
            )
        )
    # duplicate keys at several depths (the last one would otherwise win)
    text = json.dumps(RECORD)
    dups = {
        "labs.alt.value": ('"value": 48', '"value": 48, "value": 4800'),
        "labs.alt.unit": ('"unit": "U/L", "uln": 33', '"unit": "U/L", "unit": "IU/L", "uln": 33'),
        "labs": ('"labs": {', '"labs": {}, "labs": {'),
        "demographics.age": ('"age": 41', '"age": 41, "age": 91'),
        "patient_ref": (
            '"patient_ref": "MRN-0042-SECRET"',
            '"patient_ref": "MRN-0042-SECRET", "patient_ref": "MRN-0043"',
        ),
        "kratom.product": (
            '"product": "leaf_powder"',
            '"product": "leaf_powder", "product": "none"',
        ),
        "history.baseline_bilirubin.unit": (
            '"unit": "mg/dL"}, "days',
            '"unit": "mg/dL", "unit": "umol/L"}, "days',
        ),
    }
    for field, (old, new) in dups.items():
        assert old in text, old
        out.append(
            _entry(
                f"duplicate {field}",
                "duplicate_key",
                "/v1/assess",
                422,
                field,
                text.replace(old, new, 1),
            )
        )
    batch_text = json.dumps(batch)
    out.append(
        _entry(
            "duplicate patients.0.labs.alt.value",
            "duplicate_key",
            "/v1/assess/batch",
            422,
            "patients.0.labs.alt.value",
            batch_text.replace('"value": 48', '"value": 48, "value": 4800', 1),
        )
    )
    out.append(
        _entry(
            "duplicate explain",
            "duplicate_key",
            "/v1/assess/batch",
            422,
            "explain",
            batch_text.replace('"explain": false', '"explain": false, "explain": true'),
        )
    )
    # truncated and malformed JSON, on every JSON API route
    for route, (_, wrap) in ROUTES.items():
        t = json.dumps(wrap(RECORD))
        for cut in (1, 10, len(t) // 2, len(t) - 1):
            out.append(
                _entry(
                    f"truncated at {cut} on {route}", "malformed_json", route, 400, None, t[:cut]
                )
            )
    for name, raw in {
        "trailing comma": text[:-1] + ", }",
        "single quotes": text.replace('"', "'"),
        "trailing garbage": text + " x",
        "two documents": text + text,
        "comment": "/* record */ " + text,
        "bare word": "assess me",
        "unquoted key": text.replace('"patient_ref"', "patient_ref", 1),
        "huge integer": text.replace('"value": 48', '"value": ' + "9" * 5000, 1),
    }.items():
        out.append(_entry(f"malformed: {name}", "malformed_json", "/v1/assess", 400, None, raw))
    # invalid UTF-8 and other encodings
    utf8 = text.encode()
    for name, raw in {
        "0xff in a string": utf8.replace(b"MRN-0042", b"MRN-\xff042"),
        "overlong slash": utf8.replace(b"MRN-0042", b"MRN\xc0\xaf0042"),
        "UTF-8 surrogate": utf8.replace(b"MRN-0042", b"MRN\xed\xa0\x800042"),
        "latin-1 e-acute": utf8.replace(b"MRN-0042", "MRN-é42".encode("latin-1")),
        "truncated sequence": utf8.replace(b"MRN-0042", b"MRN-\xe2\x82"),
        "UTF-16 with BOM": text.encode("utf-16"),
        "UTF-8 BOM": b"\xef\xbb\xbf" + utf8,
    }.items():
        out.append(_entry(f"encoding: {name}", "invalid_utf8", "/v1/assess", 400, None, raw))
    # nesting: 100,000 deep on every route; just past the limit
    for route in [*ROUTES, HOOK, f"{HOOK}/feedback", FHIR]:
        out.append(
            _entry(
                f"nesting 100000 arrays on {route}",
                "deep_nesting",
                route,
                400,
                None,
                content_type="application/json",
                repeat=['{"labs": ', "[", "]", 100_000, "}"],
            )
        )
    out.append(
        _entry(
            "nesting 100000 objects",
            "deep_nesting",
            "/v1/assess",
            400,
            None,
            repeat=["", '{"a":', "}", 100_000, ""],
        )
    )
    out.append(_entry("nesting 65", "deep_nesting", "/v1/assess", 400, None, "[" * 65 + "]" * 65))
    # content types, on every route with a body
    for route in [*ROUTES, HOOK, f"{HOOK}/feedback", FHIR]:
        for ctype in (
            None,
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/xml",
            "multipart/form-data; boundary=x",
        ):
            out.append(
                _entry(
                    f"content type {ctype} on {route}",
                    "content_type",
                    route,
                    415,
                    None,
                    text,
                    content_type=ctype,
                )
            )
    # unknown fields
    for field in ("shoe_size", "labs.alt.flag", "demographics.mrn", "labs.hba1c", "history.note"):
        out.append(
            _entry(
                f"unknown {field}",
                "unknown_field",
                "/v1/assess",
                422,
                field,
                json.dumps(_set(RECORD, field, 1)),
            )
        )
    # out of range (the data contract's bounds)
    for field, value in [
        ("demographics.age", 17),
        ("demographics.bmi", 200),
        ("labs.alt.value", -1),
        ("labs.alt.uln", 0),
        ("labs.bilirubin.value", 0),
        ("labs.inr.value", 50),
        ("kratom.dose_g_day", 101),
        ("alcohol_audit_c", 13),
        ("symptoms.eosinophils_percent", 101),
        ("treatment.cows", 49),
        ("history.days_alt_or_ast_above_5x_uln", 3651),
        ("labs.platelets.value", 1e308),
        ("demographics.age", 41.5),
    ]:
        out.append(
            _entry(
                f"out of range {field}={value}",
                "out_of_range",
                "/v1/assess",
                422,
                field,
                json.dumps(_set(RECORD, field, value)),
            )
        )
    # unknown categories and units
    for field, value in [
        ("demographics.sex", "unknown"),
        ("demographics.race_ethnicity", "martian"),
        ("treatment.moud", "suboxone"),
        ("kratom.product", "gummies"),
        ("labs.alt.unit", "ukat/L"),
        ("labs.bilirubin.unit", "mmol/L"),
        ("labs.albumin.unit", "g/L"),
        ("opioid_use.primary_opioid", "MALE"),
        ("opioid_use.recent_opioid_urine_screen", "Positive"),
        ("demographics.sex", "Male "),
    ]:
        out.append(
            _entry(
                f"unknown category {field}={value}",
                "unknown_category",
                "/v1/assess",
                422,
                field,
                json.dumps(_set(RECORD, field, value)),
            )
        )
    # huge strings
    for field in ("patient_ref", "demographics.sex", "labs.alt.unit"):
        before, after = _raw(RECORD, field, MARK).split(MARK)
        out.append(
            _entry(
                f"huge string {field}",
                "huge_string",
                "/v1/assess",
                422,
                field,
                repeat=[before + '"', "x", "", 100_000, '"' + after],
            )
        )
    out.append(
        _entry(
            "huge unknown key",
            "huge_string",
            "/v1/assess",
            422,
            "k" * 1_000,
            json.dumps(RECORD | {"k" * 1_000: 1}),
        )
    )
    # nulls where a value is required
    for field in (
        "demographics",
        "demographics.age",
        "demographics.sex",
        "treatment.moud",
        "kratom.product",
        "kratom.dose_g_day",
        "labs",
        "labs.alt",
        "labs.alt.value",
        "labs.bilirubin.uln",
    ):
        named = "labs.bilirubin" if field == "labs.bilirubin.uln" else field  # the rule's field
        out.append(
            _entry(
                f"null {field}",
                "null_required",
                "/v1/assess",
                422,
                named,
                json.dumps(_set(RECORD, field, None)),
            )
        )
    # arrays where objects go
    for field in ("labs", "labs.alt", "demographics", "history.baseline_bilirubin"):
        out.append(
            _entry(
                f"array {field}",
                "array_for_object",
                "/v1/assess",
                422,
                field,
                json.dumps(_set(RECORD, field, [1, 2])),
            )
        )
    out.append(
        _entry("array body", "array_for_object", "/v1/assess", 422, "body", json.dumps([RECORD]))
    )
    out.append(
        _entry(
            "object patients",
            "array_for_object",
            "/v1/assess/batch",
            422,
            "patients",
            json.dumps({"patients": RECORD}),
        )
    )
    return out


def fhir_entries() -> list[dict[str, Any]]:
    bundle = json.loads((EXAMPLES / "fhir_bundle_kratom_patient.json").read_text())
    hook = json.loads((EXAMPLES / "cds_hooks_patient_view.json").read_text())
    ctype = "application/fhir+json"
    alt = "entry.3.resource.valueQuantity.value"  # the latest ALT
    out = []
    for token in ("NaN", "Infinity", "-Infinity", "1e400"):
        out.append(
            _entry(
                f"FHIR non-finite {token} ALT",
                "fhir",
                FHIR,
                422,
                "Bundle.entry[3].resource.valueQuantity.value",
                _raw(bundle, alt, token),
                content_type=ctype,
            )
        )
    text = json.dumps(bundle)
    out += [
        _entry(
            "FHIR duplicate resourceType",
            "fhir",
            FHIR,
            422,
            "Bundle.resourceType",
            text.replace(
                '"resourceType": "Bundle"', '"resourceType": "Bundle", "resourceType": "Patient"', 1
            ),
            content_type=ctype,
        ),
        _entry(
            "FHIR duplicate ALT value",
            "fhir",
            FHIR,
            422,
            "Bundle.entry[3].resource.valueQuantity.value",
            _dup_first_value(bundle, 3),
            content_type=ctype,
        ),
        _entry(
            "FHIR non-Bundle (a Patient)",
            "fhir",
            FHIR,
            422,
            "Bundle",
            json.dumps(bundle["entry"][0]["resource"]),
            content_type=ctype,
        ),
        _entry(
            "FHIR array body", "fhir", FHIR, 422, "Bundle", json.dumps([bundle]), content_type=ctype
        ),
        _entry(
            "FHIR entries are numbers",
            "fhir",
            FHIR,
            422,
            "Bundle.entry",
            json.dumps(_set(bundle, "entry", [1, 2, 3])),
            content_type=ctype,
        ),
        _entry(
            "FHIR entry is a string",
            "fhir",
            FHIR,
            422,
            "Bundle.entry",
            json.dumps(_set(bundle, "entry.0", "Patient/p")),
            content_type=ctype,
        ),
        _entry(
            "FHIR ALT value is a string",
            "fhir",
            FHIR,
            422,
            "Bundle.entry[3].resource.valueQuantity.value",
            json.dumps(_set(bundle, alt, "48")),
            content_type=ctype,
        ),
        _entry(
            "FHIR ALT reference range high is a string",
            "fhir",
            FHIR,
            422,
            "Bundle.entry[3].resource.referenceRange[0].high.value",
            json.dumps(_set(bundle, "entry.3.resource.referenceRange.0.high.value", "33")),
            content_type=ctype,
        ),
        _entry(
            "FHIR AUDIT-C valueInteger is a string",
            "fhir",
            FHIR,
            422,
            "Bundle.entry[15].resource.valueInteger",
            json.dumps(_set(bundle, "entry.15.resource.valueInteger", "3")),
            content_type=ctype,
        ),
        _entry(
            "FHIR Patient active is a string",
            "fhir",
            FHIR,
            422,
            "Bundle.entry[0].resource.active",
            json.dumps(_set(bundle, "entry.0.resource.active", "true")),
            content_type=ctype,
        ),
        _entry(
            "FHIR Bundle total is a string",
            "fhir",
            FHIR,
            422,
            "Bundle.total",
            json.dumps(_set(bundle, "total", "22")),
            content_type=ctype,
        ),
        _entry(
            "FHIR ALT value is true",
            "fhir",
            FHIR,
            422,
            "Bundle.entry[3]",
            json.dumps(_set(bundle, alt, True)),
            content_type=ctype,
        ),
        _entry(
            "FHIR truncated", "fhir", FHIR, 400, None, text[: len(text) // 2], content_type=ctype
        ),
        _entry(
            "FHIR invalid UTF-8",
            "fhir",
            FHIR,
            400,
            None,
            text.encode().replace(b'"Bundle"', b'"Bundle\xff"', 1),
            content_type=ctype,
        ),
        _entry(
            "CDS duplicate hookInstance",
            "cds_hooks",
            HOOK,
            422,
            "hookInstance",
            json.dumps(hook).replace(
                '"hookInstance": ', '"hookInstance": "x", "hookInstance": ', 1
            ),
        ),
        _entry(
            "CDS duplicate in a prefetch resource",
            "cds_hooks",
            HOOK,
            422,
            "prefetch.patient.gender",
            json.dumps(hook).replace('"gender": ', '"gender": "female", "gender": ', 1),
        ),
        _entry(
            "CDS NaN in a prefetch lab",
            "cds_hooks",
            HOOK,
            422,
            "prefetch.liverLabs.entry.0.resource.valueQuantity.value",
            _raw(hook, "prefetch.liverLabs.entry.0.resource.valueQuantity.value", "NaN"),
        ),
        _entry(
            "CDS prefetch ALT value is a string",
            "cds_hooks",
            HOOK,
            422,
            "prefetch.liverLabs.entry[0].resource.valueQuantity.value",
            json.dumps(
                _set(hook, "prefetch.liverLabs.entry.0.resource.valueQuantity.value", "118")
            ),
        ),
        _entry(
            "CDS prefetch Patient gender unknown",
            "cds_hooks",
            HOOK,
            422,
            "prefetch.patient.gender",
            json.dumps(_set(hook, "prefetch.patient.gender", "unknown")),
        ),
        _entry(
            "CDS prefetch entries not objects",
            "cds_hooks",
            HOOK,
            422,
            None,
            json.dumps(_set(hook, "prefetch.liverLabs.entry", [1, "x"])),
        ),
        _entry(
            "CDS prefetch not an object",
            "cds_hooks",
            HOOK,
            422,
            "prefetch",
            json.dumps(_set(hook, "prefetch", [1])),
        ),
        _entry(
            "CDS hookInstance not a UUID",
            "cds_hooks",
            HOOK,
            422,
            "hookInstance",
            json.dumps(_set(hook, "hookInstance", "MRN-0042")),
        ),
        _entry(
            "CDS unknown hook",
            "cds_hooks",
            HOOK,
            422,
            "hook",
            json.dumps(_set(hook, "hook", "order-sign")),
        ),
        _entry("CDS truncated", "cds_hooks", HOOK, 400, None, json.dumps(hook)[:-2]),
        _entry(
            "CDS feedback duplicate outcome",
            "cds_hooks",
            f"{HOOK}/feedback",
            422,
            "feedback.0.outcome",
            '{"feedback": [{"card": "1d7c5f9e-6a53-4bb4-9a49-5d5c3c2a1e11", "outcome": '
            '"accepted", "outcome": "overridden", "outcomeTimestamp": "2026-11-26T10:01:00Z"}]}',
        ),
    ]
    return out


def _dup_first_value(bundle: dict[str, Any], index: int) -> str:
    """The Bundle with the ``valueQuantity.value`` of entry ``index`` given twice."""
    v = bundle["entry"][index]["resource"]["valueQuantity"]["value"]
    text = _raw(bundle, f"entry.{index}.resource.valueQuantity.value", MARK)
    return text.replace(MARK, f'{v}, "value": {v * 100}')


def main() -> None:
    entries = record_entries() + fhir_entries()
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids)), "ids must be unique"
    with (HERE / "catalogue.jsonl").open("w") as f:
        for e in entries:
            f.write(json.dumps(e) + "\n")
    print(f"{len(entries)} generated entries")  # noqa: T201  (the counts are the output)


if __name__ == "__main__":
    main()
