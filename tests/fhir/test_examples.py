"""The examples' responses: produced by the service, never hand-written.

``HEPATORISK_WRITE_EXAMPLES=1 pytest tests/fhir/test_examples.py`` rewrites
``examples/*.response.json`` from the answers (models trained on ``data/synthetic/sample`` by the
service test fixtures); without it, the committed responses must have the answers' shape.
"""

from __future__ import annotations

import json
import os

from fhir.resources.R4B.bundle import Bundle
from fhir_support import EXAMPLES, FHIR_JSON, example
from service_support import AUTH

from hepatorisk.fhir.cds_hooks import SERVICE_ID, CdsResponse

CALLS = {
    "fhir_bundle_kratom_patient.response.json": (
        "/fhir/RiskAssessment/$assess",
        "fhir_bundle_kratom_patient.json",
    ),
    "cds_hooks_patient_view.response.json": (
        f"/cds-services/{SERVICE_ID}",
        "cds_hooks_patient_view.json",
    ),
}


def test_example_responses(client):
    write = os.environ.get("HEPATORISK_WRITE_EXAMPLES") == "1"
    for name, (url, request) in CALLS.items():
        r = client.post(url, json=example(request), headers={**AUTH, **FHIR_JSON})
        assert r.status_code == 200, r.text
        if write:
            (EXAMPLES / name).write_text(json.dumps(r.json(), indent=2, ensure_ascii=False) + "\n")
        committed = json.loads((EXAMPLES / name).read_text())
        if name.startswith("fhir"):
            Bundle.model_validate(committed)
            kinds = [e["resource"]["resourceType"] for e in committed["entry"]]
            assert kinds == [e["resource"]["resourceType"] for e in r.json()["entry"]]
        else:
            CdsResponse.model_validate(committed)
            assert committed["cards"][0].keys() == r.json()["cards"][0].keys()
    discovery = client.get("/cds-services").json()
    if write:
        (EXAMPLES / "cds_services_discovery.response.json").write_text(
            json.dumps(discovery, indent=2) + "\n"
        )
    assert json.loads((EXAMPLES / "cds_services_discovery.response.json").read_text()) == discovery
