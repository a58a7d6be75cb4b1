"""Validation of every FHIR resource the service answers, by tools hepatorisk did not write.

- Structure: the official FHIR R4 JSON Schema (``fhir.schema.json``, vendored with its
  provenance) with ``jsonschema-rs``; each Bundle entry validated on its own.
- Invariants: FHIRPath rules of the R4 specification evaluated with ``fhirpathpy`` (bdl-*,
  ras-*, obs-*, lst-*, dom-2..6, cpb-*, csd-1, opd-*, prr-1, pat-1), written as the
  specification states them (dom-3 in a shortened form); ele-1 (no empty elements) in Python.
- References: every ``reference`` in a Bundle names the ``fullUrl`` of one of its entries (or
  ``#id`` of a contained resource): nothing dangles.

``RESULTS`` counts what was checked; ``conftest.py`` prints it at the end of the session.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
from fhirpathpy import compile as compile_fhirpath
from fhirpathpy.models import models

SCHEMA = Path(__file__).with_name("fhir.schema.json")
SCHEMA_SHA256 = "15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d"
RESULTS: Counter[str] = Counter()

DOMAIN = {
    "dom-2": "contained.contained.empty()",
    "dom-3": "contained.where(('#' + id in %resource.descendants().reference).not()).empty()",
    "dom-4": "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()",
    "dom-5": "contained.meta.security.empty()",
    "dom-6": "text.`div`.exists()",
}
INVARIANTS: dict[str, dict[str, str]] = {
    "Bundle": {
        "bdl-1": "total.empty() or (type = 'searchset') or (type = 'history')",
        "bdl-2": "entry.search.empty() or (type = 'searchset')",
        "bdl-3": "entry.request.empty() or type = 'batch' or type = 'transaction' "
        "or type = 'history'",
        "bdl-4": "entry.response.empty() or type = 'batch-response' "
        "or type = 'transaction-response' or type = 'history'",
        "bdl-5": "entry.all(resource.exists() or request.exists() or response.exists())",
        "bdl-7": "(type = 'history') or entry.where(fullUrl.exists())"
        ".select(fullUrl&resource.meta.versionId).isDistinct()",
        "bdl-8": "entry.all(fullUrl.contains('/_history/').not())",
        "bdl-9": "type = 'document' implies (identifier.system.exists() "
        "and identifier.value.exists())",
        "bdl-10": "type = 'document' implies timestamp.exists()",  # hasValue(): not in fhirpathpy
    },
    "RiskAssessment": {
        "ras-1": "prediction.all(probability is decimal implies (probability as decimal) <= 100)",
        "ras-2": "prediction.all(probability is Range implies "
        "((probability as Range).low.empty() or ((probability as Range).low.code = '%' "
        "and (probability as Range).low.system = %ucum)) and "
        "((probability as Range).high.empty() or ((probability as Range).high.code = '%' "
        "and (probability as Range).high.system = %ucum)))",
    },
    "Observation": {
        "obs-3": "referenceRange.all(low.exists() or high.exists() or text.exists())",
        "obs-6": "dataAbsentReason.empty() or value.empty()",
        "obs-7": "value.empty() or component.code.where(coding.intersect(%resource.code.coding)"
        ".exists()).empty()",
    },
    "List": {
        "lst-1": "emptyReason.empty() or entry.empty()",
        "lst-2": "mode = 'changes' or entry.deleted.empty()",
        "lst-3": "mode = 'working' or entry.date.empty()",
    },
    "CapabilityStatement": {
        "cpb-1": "rest.exists() or messaging.exists() or document.exists()",
        "cpb-2": "(description.count() + software.count() + implementation.count()) > 0",
        "cpb-3": "messaging.endpoint.empty() or kind = 'instance'",
        "cpb-14": "(kind != 'instance') or implementation.exists()",
        "cpb-15": "(kind != 'capability') or (implementation.exists().not() and software.exists())",
        "cpb-16": "(kind!='requirements') or (implementation.exists().not() "
        "and software.exists().not())",
    },
    "CodeSystem": {
        "csd-1": "concept.code.combine(descendants().concept.code).isDistinct()",
        "cnl-0": "name.exists() implies name.matches('[A-Z]([A-Za-z0-9_]){0,254}')",
    },
    "OperationDefinition": {
        "opd-0": "name.exists() implies name.matches('[A-Z]([A-Za-z0-9_]){0,254}')",
        "opd-1": "parameter.all(type.exists() or part.exists())",
        "opd-2": "parameter.all(searchType.exists() implies type = 'string')",
        "opd-3": "parameter.all(targetProfile.exists() implies "
        "(type = 'Reference' or type = 'canonical'))",
    },
    "ServiceRequest": {"prr-1": "orderDetail.empty() or code.exists()"},
    "Patient": {
        "pat-1": "contact.all(name.exists() or telecom.exists() or address.exists() "
        "or organization.exists())"
    },
}
_ENV = {"ucum": "http://unitsofmeasure.org"}


@lru_cache(maxsize=1)
def _schema() -> dict[str, Any]:
    raw = SCHEMA.read_bytes()
    assert hashlib.sha256(raw).hexdigest() == SCHEMA_SHA256, "the vendored schema was changed"
    schema: dict[str, Any] = json.loads(raw)
    # The schema was generated for R4 4.0.0; R4's technical correction 4.0.1 (the version at
    # hl7.org/fhir/R4, which servers declare) added its own code to the FHIRVersion value set
    # and changed nothing else in the JSON format: the one amendment made to the copy in memory.
    versions = schema["definitions"]["CapabilityStatement"]["properties"]["fhirVersion"]["enum"]
    versions.append("4.0.1")
    return schema


@lru_cache(maxsize=64)
def validator(kind: str | None = None) -> Any:
    """The schema's validator; for a known resource type, rooted at that type's definition (the
    same rules, without the root's oneOf over every type, so errors name the element)."""
    schema = _schema()
    if kind in schema["definitions"]:
        schema = {k: v for k, v in schema.items() if k not in ("oneOf", "discriminator")}
        schema["$ref"] = f"#/definitions/{kind}"
    return jsonschema_rs.Draft6Validator(schema)


def schema_errors(resource: dict[str, Any], where: str) -> list[str]:
    kind = resource.get("resourceType")
    errors = list(validator().iter_errors(resource))  # the official root: any resource type
    if errors and isinstance(kind, str):
        errors = list(validator(kind).iter_errors(resource)) or errors
    return [f"{where}: schema: {e.message[:300]} at {list(e.instance_path)}" for e in errors]


@lru_cache(maxsize=256)
def _compiled(expression: str) -> Any:
    """The expression parsed once (parsing is most of an evaluation's time), with R4's model so
    that choice types (``probability`` for ``probabilityDecimal``) resolve."""
    return compile_fhirpath(expression, models["r4"])


def invariant_failures(resource: dict[str, Any], where: str) -> list[str]:
    """The invariants of ``resource``'s type (and DomainResource's) that do not hold."""
    kind = resource.get("resourceType", "")
    rules = {**INVARIANTS.get(kind, {})}
    if kind not in ("Bundle", "Parameters", "Binary"):
        rules |= DOMAIN
    out = []
    for key, expression in rules.items():
        RESULTS["invariants evaluated"] += 1
        try:
            result = _compiled(expression)(resource, dict(_ENV))
        except Exception as exc:  # a wrongly typed element: the invariant cannot hold
            result = [f"not evaluable: {type(exc).__name__}"]
        if result != [True]:
            out.append(f"{where}: {kind} {key} fails ({result})")
    return out


def empty_elements(node: Any, where: str) -> list[str]:
    """ele-1: every element has a value or children (no {}, [], '' or null)."""
    if node is None or node in ({}, [], ""):
        return [f"{where}: ele-1 empty element"]
    if isinstance(node, dict):
        return [x for k, v in node.items() for x in empty_elements(v, f"{where}.{k}")]
    if isinstance(node, list):
        return [x for i, v in enumerate(node) for x in empty_elements(v, f"{where}[{i}]")]
    return []


def dangling(bundle: dict[str, Any]) -> list[str]:
    """References in ``bundle`` that name no entry's fullUrl (nor a contained resource)."""
    full = {e.get("fullUrl") for e in bundle.get("entry", [])}
    out = []
    for i, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource", {})
        contained = {f"#{c.get('id')}" for c in resource.get("contained", [])}
        for ref in _references(resource):
            RESULTS["references checked"] += 1
            if ref not in full and ref not in contained:
                out.append(f"entry[{i}] {resource.get('resourceType')}: reference dangles")
    return out


def _references(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for x in node for r in _references(x)]
    if not isinstance(node, dict):
        return []
    found = [node["reference"]] if isinstance(node.get("reference"), str) else []
    return found + [r for v in node.values() for r in _references(v)]


def problems(resource: dict[str, Any], where: str = "answer") -> list[str]:
    """Everything wrong with a FHIR resource the service answered (a Bundle: each entry)."""
    RESULTS["resources validated"] += 1
    found = empty_elements(resource, where) + invariant_failures(resource, where)
    if resource.get("resourceType") == "Bundle":
        shell = {k: v for k, v in resource.items() if k != "entry"}
        shell["entry"] = [{k: v for k, v in e.items() if k != "resource"}
                          for e in resource.get("entry", [])]  # fmt: skip
        found += schema_errors(shell, where) + dangling(resource)
        for i, e in enumerate(resource.get("entry", [])):
            found += problems(e["resource"], f"{where}.entry[{i}]")
    else:
        found += schema_errors(resource, where)
    return found


def cds_problems(answer: dict[str, Any]) -> list[str]:
    """The FHIR resources inside a CDS Hooks answer (suggested actions)."""
    out = []
    for c, card in enumerate(answer.get("cards", [])):
        for s, suggestion in enumerate(card.get("suggestions") or []):
            for a, action in enumerate(suggestion.get("actions") or []):
                if isinstance(action.get("resource"), dict):
                    out += problems(action["resource"], f"cards[{c}].suggestions[{s}].actions[{a}]")
    return out


def check_answer(path: str, status: int, body: Any) -> None:
    """Raise AssertionError when a FHIR or CDS Hooks answer is not valid."""
    if not isinstance(body, dict):
        return
    if "resourceType" in body:
        RESULTS["FHIR responses"] += 1
        found = problems(body)
    elif path.startswith("/cds-services") and "cards" in body:
        RESULTS["CDS responses"] += 1
        found = cds_problems(body)
    else:
        return
    RESULTS["problems"] += len(found)
    assert not found, f"{path} ({status}): " + "; ".join(found[:10])
