"""Malformed FHIR and CDS Hooks input is a 4xx (OperationOutcome on the FHIR endpoint), never a 500.

A bounded mutation sweep: every top-level element of every resource in the examples is deleted
or replaced by a value of the wrong type. A full sweep over every leaf (about 7,700 requests, run
while this was written) found only the prefetch ``entry`` case kept as a regression test below.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from fhir_support import example
from service_support import AUTH, wait_ready

from hepatorisk.app import create_app
from hepatorisk.fhir.cds_hooks import SERVICE_ID, CdsResponse
from hepatorisk.settings import Settings

FHIR_URL = "/fhir/RiskAssessment/$assess"
HOOK = f"/cds-services/{SERVICE_ID}"
DELETE = object()
WRONG = (DELETE, "x", -1)  # missing, a string where a structure is expected, a bare number


@pytest.fixture
def lenient(settings: Settings) -> Iterator[TestClient]:
    """A client that returns a 500 as a response instead of raising it, so all are counted."""
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        wait_ready(c)
        yield c


def _mutations(doc: dict[str, Any], roots: list[tuple[Any, ...]]) -> Iterator[dict[str, Any]]:
    """``doc`` with each top-level element under each root deleted or of the wrong type."""
    for root in roots:
        node: Any = doc
        for p in root:
            node = node[p]
        for key in list(node):
            for new in WRONG:
                out = copy.deepcopy(doc)
                target = out
                for p in root:
                    target = target[p]
                if new is DELETE:
                    del target[key]
                else:
                    target[key] = new
                yield out


def test_fhir_endpoint_never_answers_500(lenient):
    raw = example("fhir_bundle_kratom_patient.json")
    roots = [(), *[("entry", i, "resource") for i in range(len(raw["entry"]))]]
    failures = []
    for body in _mutations(raw, roots):
        r = lenient.post(FHIR_URL, json=body, headers=AUTH)
        kind = r.json().get("resourceType") if r.status_code < 500 else None
        if kind not in ("Bundle", "OperationOutcome"):
            failures.append((r.status_code, r.text[:200]))
        elif r.status_code == 200:
            Bundle.model_validate(r.json())
    assert not failures, failures[:5]


def test_cds_hook_never_answers_500(lenient):
    hook = example("cds_hooks_patient_view.json")
    roots = [(), ("prefetch",), *[("prefetch", k) for k in hook["prefetch"]]]
    failures = []
    for body in _mutations(hook, roots):
        r = lenient.post(HOOK, json=body, headers=AUTH)
        if r.status_code >= 500:
            failures.append((r.status_code, r.text[:200]))
        elif r.status_code == 200:
            CdsResponse.model_validate(r.json())
    assert not failures, failures[:5]


@pytest.mark.parametrize("entry", [-1, 1.5, ["x"], {"fullUrl": "urn:uuid:x"}])
def test_malformed_prefetch_entries_are_named_not_dropped(client, entry):
    """Was a 500 (a number as ``entry``) or a silent drop (non-object entries)."""
    hook = example("cds_hooks_patient_view.json")
    hook["prefetch"]["conditions"]["entry"] = entry
    r = client.post(HOOK, json=hook, headers=AUTH)
    assert r.status_code == 422, r.text
    oo = r.json()
    assert oo["resourceType"] == "OperationOutcome"
    assert any(
        "expected a resource" in i["diagnostics"] for i in oo["issue"] if i["severity"] == "error"
    ), oo
