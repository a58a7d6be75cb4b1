"""No identifier in any log or error: planted strings in every field, searched for afterwards.

Every string field of valid and hostile requests (the JSON API, a FHIR Bundle, a CDS Hooks
request and its feedback) carries a distinctive planted value (``MRN-PLANT-...``). After the
requests, the planted prefix must appear in no log record of any logger (DEBUG and up, messages,
arguments and tracebacks), in no error response (a 4xx names the field, not the value) and nowhere
in the audit database's files (the database and its write-ahead log, byte for byte): identifiers
are stored only as keyed hashes. A success response may carry the caller's own reference back.
(The same hostile bodies against a real ``hepatorisk serve``, its stderr searched:
test_serve_cli.py.)
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sqlite3
import traceback
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from no_identifiers_support import (
    JSON,
    PLANT,
    hostile_bodies,
    planted,
    planted_variants,
    valid_planted_patient,
)
from service_support import AUTH, TestClient, make_settings, running

from hepatorisk.fhir.cds_hooks import SERVICE_ID

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HOOK = f"/cds-services/{SERVICE_ID}"
FHIR_ASSESS = "/fhir/RiskAssessment/$assess"
FHIR_JSON = {"Content-Type": "application/fhir+json"}


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


class Probe:
    """Sends requests and notes every place a planted value showed up."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.leaks: list[str] = []
        self.sent = 0
        self.statuses: dict[int, int] = {}

    def post(self, path: str, label: str, *, body: Any = None, raw: bytes | None = None,
             headers: dict[str, str] | None = None) -> Any:  # fmt: skip
        self.sent += 1
        content = raw if raw is not None else json.dumps(body).encode()
        try:
            r = self.client.post(path, content=content, headers=AUTH | (headers or JSON))
        except Exception:  # a 500 re-raised by the test client: its traceback counts too
            text = traceback.format_exc()
            self.leaks.append(f"{path} {label}: exception {text[-300:]}")
            return None
        self.statuses[r.status_code] = self.statuses.get(r.status_code, 0) + 1
        if r.status_code >= 500:
            self.leaks.append(f"{path} {label}: {r.status_code}")
        if r.status_code >= 400 and PLANT in r.text:
            self.leaks.append(f"{path} {label}: {r.status_code} echoes it: {_around(r.text)}")
        return r


def _around(text: str) -> str:
    i = text.find(PLANT)
    return text[max(0, i - 120) : i + 80]


def _log_leaks(records: list[logging.LogRecord]) -> list[str]:
    leaks = []
    for rec in records:
        parts = [str(rec.msg), repr(rec.args)]
        with contextlib.suppress(Exception):  # arguments that do not format: parts searched
            parts.append(rec.getMessage())
        if rec.exc_info:
            parts.append("".join(traceback.format_exception(*rec.exc_info)))
        if rec.exc_text:
            parts.append(rec.exc_text)
        text = "\n".join(parts)
        if PLANT in text:
            leaks.append(f"log {rec.name} {rec.levelname}: {_around(text)}")
    return leaks


def _database_leaks(db: Path) -> list[str]:
    """Search every row (as text) and every byte of the database files for the plant."""
    leaks = []
    con = sqlite3.connect(db)
    try:
        for line in con.iterdump():
            if PLANT in line:
                leaks.append(f"audit row: {_around(line)}")
    finally:
        con.close()
    for f in db.parent.glob(f"{db.name}*"):
        if PLANT.encode() in f.read_bytes():
            leaks.append(f"audit file {f.name} holds the plant")
    return leaks


@pytest.fixture
def probe_app(
    model_dirs: dict[str, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Callable[[Callable[[Probe], None]], Probe]]:
    """Run a scenario against a fresh app; afterwards search its logs and audit database."""
    caplog.set_level(logging.DEBUG)  # the root logger: every logger propagates to it

    def run(scenario: Callable[[Probe], None]) -> Probe:
        settings = make_settings(model_dirs, tmp_path)
        with running(settings) as client:
            probe = Probe(client)
            scenario(probe)
        probe.leaks += _log_leaks(caplog.records)
        probe.leaks += _database_leaks(tmp_path / "audit.db")
        return probe

    yield run


def _json_api(p: Probe) -> None:
    valid = valid_planted_patient()
    for path in ("/v1/assess", "/v1/predict", "/v1/explain"):
        r = p.post(path, "valid", body=valid)
        assert r is not None and r.status_code == 200, r and r.text
    r = p.post("/v1/assess/batch", "valid", body={"patients": [valid, valid]})
    assert r is not None and r.status_code == 200
    for label, body in planted_variants(valid):
        p.post("/v1/assess", label, body=body)
        p.post("/v1/explain", label, body=body)
        p.post("/v1/assess/batch", label, body={"patients": [valid, body]})
    for i, raw in enumerate(hostile_bodies()):
        p.post("/v1/assess", f"hostile #{i}", raw=raw)
        p.post("/v1/predict", f"hostile #{i}", raw=raw)


def _plant_patient(resource: dict[str, Any]) -> None:
    resource["identifier"] = [{"system": "urn:example:mrn", "value": planted("mrn")}]
    resource["name"] = [{"family": planted("family"), "given": [planted("given")]}]
    resource["telecom"] = [{"system": "phone", "value": planted("phone")}]


def _planted_bundle() -> dict[str, Any]:
    bundle = example("fhir_bundle_kratom_patient.json")
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Patient":
            _plant_patient(entry["resource"])
    return bundle


def _fhir(p: Probe) -> None:
    bundle = _planted_bundle()
    r = p.post(FHIR_ASSESS, "valid", body=bundle, headers=FHIR_JSON)
    assert r is not None and r.status_code == 200, r and r.text
    # the patient's id, everywhere it is referenced, is an identifier too
    text = json.dumps(bundle).replace("kp-001", planted("id"))
    r = p.post(FHIR_ASSESS, "valid, planted id", raw=text.encode(), headers=FHIR_JSON)
    assert r is not None and r.status_code == 200, r and r.text
    for label, body in planted_variants(bundle):
        p.post(FHIR_ASSESS, label, body=body, headers=FHIR_JSON)
    for i, raw in enumerate(hostile_bodies()):
        p.post(FHIR_ASSESS, f"hostile #{i}", raw=raw, headers=FHIR_JSON)


def _planted_hook() -> dict[str, Any]:
    hook = example("cds_hooks_patient_view.json")
    _plant_patient(hook["prefetch"]["patient"])
    return hook


def _cds(p: Probe) -> None:
    hook = _planted_hook()
    r = p.post(HOOK, "valid", body=hook)
    assert r is not None and r.status_code == 200, r and r.text
    text = json.dumps(hook).replace("kp-001", planted("id"))
    r = p.post(HOOK, "valid, planted id", raw=text.encode())
    assert r is not None and r.status_code == 200, r and r.text
    for label, body in planted_variants(hook):
        p.post(HOOK, label, body=body)
    for i, raw in enumerate(hostile_bodies()):
        p.post(HOOK, f"hostile #{i}", raw=raw)


def _feedback(p: Probe) -> None:
    r = p.post(HOOK, "valid", body=_planted_hook())
    assert r is not None and r.status_code == 200, r and r.text
    card = r.json()["cards"][0]
    feedback = {
        "feedback": [
            {
                "card": card["uuid"],
                "outcome": "overridden",
                "outcomeTimestamp": "2026-11-26T10:00:00Z",
                "overrideReason": {
                    "reason": card["overrideReasons"][0],
                    "userComment": planted("comment"),
                },
            }
        ]
    }
    r = p.post(f"{HOOK}/feedback", "valid", body=feedback)
    assert r is not None and r.status_code == 200, r and r.text
    for label, body in planted_variants(feedback):
        p.post(f"{HOOK}/feedback", label, body=body)
    wrong = copy.deepcopy(feedback)
    wrong["feedback"][0]["card"] = str(uuid.uuid4())
    p.post(f"{HOOK}/feedback", "unknown card", body=wrong)


SCENARIOS = {"json-api": _json_api, "fhir": _fhir, "cds-hooks": _cds, "cds-feedback": _feedback}


@pytest.mark.parametrize("family", list(SCENARIOS))
def test_planted_identifiers_reach_no_log_error_or_audit_row(probe_app, family):
    probe = probe_app(SCENARIOS[family])
    assert probe.sent > 10
    assert any(s >= 400 for s in probe.statuses), probe.statuses  # the hostile ones were refused
    assert probe.leaks == [], f"{len(probe.leaks)} leaks, e.g.:\n" + "\n".join(probe.leaks[:15])
