"""Every entry of the hostile-input catalogue against the real app (models loaded, audit open).

For each entry (``catalogue.jsonl``, written by ``generate.py``, and ``hand_written.jsonl``):

* the status is the entry's 4xx (never a 2xx: nothing in the catalogue may be accepted with a
  meaning it does not have, and never >= 500);
* the body is the one the OpenAPI document gives for that status and media type (the project's
  ``{detail, request_id}`` with the request id of the ``X-Request-ID`` header, or a FHIR
  OperationOutcome whose ``id`` is that request id), checked by jsonschema-rs against the
  document;
* a 422 for a field names that field (``detail[].field``, or an OperationOutcome expression);
* no identifier planted in the request (``MRN-0042``) comes back in the answer.

The counts by class and status are printed by the last test (``pytest -s``).
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from service_support import AUTH, TestClient, make_settings, running

from hepatorisk.fhir.cds_hooks import SERVICE_ID

HERE = Path(__file__).resolve().parent
ENTRIES = [
    json.loads(line)
    for name in ("catalogue.jsonl", "hand_written.jsonl")
    for line in (HERE / name).read_text().splitlines()
    if line.strip()
]
RESULTS: Counter[tuple[str, int]] = Counter()
PLANTED = "MRN-0042"


@pytest.fixture(scope="module")
def client(model_dirs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with running(make_settings(model_dirs, tmp_path_factory.mktemp("hostile"))) as c:
        yield c


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _body(entry: dict[str, Any]) -> bytes:
    if "repeat" in entry:
        prefix, opening, closing, times, suffix = entry["repeat"]
        return f"{prefix}{opening * times}{closing * times}{suffix}".encode()
    if "body_b64" in entry:
        return base64.b64decode(entry["body_b64"])
    return str(entry.get("body", "")).encode()


def _names(field: str, answer: dict[str, Any]) -> bool:
    """Whether the error body names ``field`` (or an element inside it)."""
    if answer.get("resourceType") == "OperationOutcome":
        expressions = [x for i in answer["issue"] for x in i.get("expression", [])]
        texts = expressions + [i.get("diagnostics", "") for i in answer["issue"]]
        dotted = field.replace("[", ".").replace("]", "")
        return any(field in t or dotted in t.replace("[", ".").replace("]", "") for t in texts)
    fields = [d["field"] for d in answer["detail"]]
    return any(f == field or f.startswith(f"{field}.") for f in fields)


def _documented_schema(document: dict[str, Any], path: str, status: int, media: str) -> Any:
    if path not in document["paths"]:  # the feedback route's path has a parameter
        path = path.replace(SERVICE_ID, "{service_id}")
    operation = document["paths"][path]["post"]
    content = operation["responses"][str(status)]["content"]
    assert media in content, f"{media} not documented for {status} ({sorted(content)})"
    return {**content[media]["schema"], "components": document["components"]}


def _param(entry: dict[str, Any]) -> Any:
    """An entry; ``known_gap`` marks one the service does not refuse yet (strict xfail: the test
    fails as soon as it is refused, so the mark cannot outlive the gap)."""
    marks = (
        [pytest.mark.xfail(reason=entry["known_gap"], strict=True)] if "known_gap" in entry else []
    )
    return pytest.param(entry, id=entry["id"][:90], marks=marks)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_hostile_input_is_refused_as_documented(client, document, entry):
    headers = dict(AUTH)
    if entry["content_type"] is not None:
        headers["Content-Type"] = entry["content_type"]
    r = client.request(entry["method"], entry["path"], content=_body(entry), headers=headers)
    RESULTS[entry["class"], r.status_code] += 1
    assert r.status_code < 500, r.text[:300]
    assert r.status_code == entry["status"], r.text[:300]
    media = r.headers["content-type"].split(";")[0]
    answer = r.json()
    schema = _documented_schema(document, entry["path"], r.status_code, media)
    errors = [e.message for e in jsonschema_rs.validator_for(schema).iter_errors(answer)]
    assert not errors, errors[:3]
    if answer.get("resourceType") == "OperationOutcome":
        assert answer["id"] == r.headers["x-request-id"]
    else:
        assert answer["request_id"] == r.headers["x-request-id"]
    if entry["field"] is not None:
        assert _names(entry["field"], answer), answer
    assert PLANTED not in r.text


def test_catalogue_size_and_counts():
    """At least 150 entries; prints the counts by class and status (the closing note's)."""
    assert len(ENTRIES) >= 150
    assert len({e["id"] for e in ENTRIES}) == len(ENTRIES)
    by_class = Counter(e["class"] for e in ENTRIES)
    print(f"\nhostile catalogue: {len(ENTRIES)} entries")  # noqa: T201  (the counts are the output)
    for cls, n in sorted(by_class.items()):
        statuses = {s: c for (k, s), c in sorted(RESULTS.items()) if k == cls}
        print(f"  {cls:20} {n:4}  answered {statuses}")  # noqa: T201  (the counts are the output)
    if RESULTS:
        print(f"  >= 500: {sum(c for (_, s), c in RESULTS.items() if s >= 500)}")  # noqa: T201  (the counts are the output)
