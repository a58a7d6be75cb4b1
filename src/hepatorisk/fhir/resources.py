"""Reading a FHIR R4 Bundle resource by resource, each validated with ``fhir.resources.R4B``.

A Bundle is validated entry by entry (not in one call) so that every invalid resource is named
in the OperationOutcome, with the element pydantic points at, instead of the first one only.
"""

from __future__ import annotations

import decimal
import types
import typing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.domainresource import DomainResource
from fhir.resources.R4B.resource import Resource
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.types import FhirBase
from pydantic import ValidationError

from hepatorisk.fhir.issues import Issues, pydantic_issues

__all__ = ["Entry", "codings", "parse_bundle", "parse_instant", "text_of"]


@dataclass(frozen=True)
class Entry:
    """One validated resource (kept as its JSON), where it sat, and how to reference it."""

    resource: dict[str, Any]
    path: str  # FHIRPath of the resource in the request, e.g. Bundle.entry[3].resource
    full_url: str | None = None

    @property
    def type(self) -> str:
        return str(self.resource["resourceType"])

    @property
    def reference(self) -> str:
        rid = self.resource.get("id")
        return f"{self.type}/{rid}" if rid else self.full_url or self.path

    def at(self, element: str) -> str:
        return f"{self.path}.{element}" if element else self.path


def parse_bundle(raw: Any, issues: Issues) -> list[Entry]:
    """The Bundle's resources, each validated as R4; invalid ones become error issues."""
    if not isinstance(raw, dict) or raw.get("resourceType") != "Bundle":
        # the caller's resourceType is not quoted (a request string may carry an identifier)
        got = "another resourceType" if isinstance(raw, dict) else f"a JSON {_json_type(raw)}"
        issues.add(
            "error",
            "structure",
            f"resourceType must be Bundle (a FHIR R4 Bundle), got {got}",
            "Bundle.resourceType" if isinstance(raw, dict) else "Bundle",
        )
        return []
    entries_raw = raw.get("entry", [])
    if not isinstance(entries_raw, list):
        issues.add("error", "structure", "Bundle.entry must be an array", "Bundle.entry")
        return []
    shell = {**raw, "entry": [_strip(e) for e in entries_raw]}
    try:
        Bundle.model_validate(shell)
    except ValidationError as exc:
        pydantic_issues(issues, exc.errors(), "Bundle")
        return []
    if json_type_issues(Bundle, shell, "Bundle", issues):
        return []
    entries = []
    for i, item in enumerate(entries_raw):
        path = f"Bundle.entry[{i}].resource"
        resource = item.get("resource") if isinstance(item, dict) else None
        entry = validate_resource(resource, path, issues)
        if entry is not None:
            entries.append(Entry(entry.resource, path, item.get("fullUrl")))
    return entries


def validate_resource(resource: Any, path: str, issues: Issues) -> Entry | None:
    """One resource validated by its R4B model; None (with an error issue) when invalid."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        issues.add("error", "structure", "expected a resource with a resourceType", path)
        return None
    kind = resource["resourceType"]
    try:
        model = get_fhir_model_class(kind)
    except (ValueError, KeyError):
        issues.add(
            "error",
            "not-supported",
            "resourceType is not an R4 resource type (value not shown)",
            f"{path}.resourceType",
        )
        return None
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        pydantic_issues(issues, exc.errors(), path)
        return None
    except (ValueError, TypeError, KeyError) as exc:  # fhir.resources raises these for some types
        # the exception's text may quote the resource: only its type is named
        issues.add("error", "invalid", f"invalid {kind} ({type(exc).__name__})", path)
        return None
    if json_type_issues(model, resource, path, issues):
        return None
    return Entry(resource, path)


# JSON types the R4 JSON format requires where the R4B models convert loosely (pydantic's lax
# mode reads "48" as 48 for a decimal and "true" as True for a boolean): a number or a boolean
# sent as a string (or a boolean where a number goes) is refused, naming its element.
_EXPECTED = {"number": "a JSON number", "boolean": "a JSON boolean (true or false)"}


def json_type_issues(model: type[FHIRAbstractModel], raw: dict[str, Any], path: str,
                     issues: Issues) -> int:  # fmt: skip
    """Error issues for every element of ``raw`` (validated by ``model``, recursively) whose
    JSON type is not the one R4 requires for a number or a boolean; returns how many."""
    found = 0
    for key, value in raw.items():
        kind, inner = _element_kind(model, key)
        if kind is None:
            continue
        many = isinstance(value, list)
        for i, item in enumerate(value if many else [value]):
            where = f"{path}.{key}[{i}]" if many else f"{path}.{key}"
            if item is None:
                continue
            if kind in _EXPECTED:
                if _json_kind(item) != kind:
                    issues.add("error", "value",
                               f"{key}: expected {_EXPECTED[kind]}, got a JSON {_json_type(item)}",
                               where)  # fmt: skip
                    found += 1
            elif isinstance(item, dict) and inner is not None:
                found += json_type_issues(_concrete(inner, item), item, where, issues)
    return found


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "number" if isinstance(value, int | float) else "other"


def _concrete(model: type[FHIRAbstractModel], raw: dict[str, Any]) -> type[FHIRAbstractModel]:
    """A contained or entry resource's own model (the field's type is the abstract Resource)."""
    if model in (Resource, DomainResource) and isinstance(raw.get("resourceType"), str):
        try:
            return get_fhir_model_class(raw["resourceType"])
        except (ValueError, KeyError):
            return model
    return model


@lru_cache(maxsize=4096)
def _element_kind(
    model: type[FHIRAbstractModel], key: str
) -> tuple[str | None, type[FHIRAbstractModel] | None]:
    """("number" | "boolean" | "model" | None, the element's model) of JSON key ``key``."""
    field = next((f for f in model.model_fields.values() if f.alias == key), None)
    if field is None:
        return None, None
    return _kind_of(field.annotation)


def _kind_of(annotation: Any) -> tuple[str | None, type[FHIRAbstractModel] | None]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list, typing.Annotated):
        args = typing.get_args(annotation)
        if origin is typing.Annotated:
            args = args[:1]
        for arg in args:
            if arg is not type(None):
                found = _kind_of(arg)
                if found[0] is not None:
                    return found
        return None, None
    if annotation is bool:
        return "boolean", None
    if annotation in (int, float, decimal.Decimal):
        return "number", None
    if isinstance(annotation, type) and issubclass(annotation, FhirBase):
        return "model", annotation.get_model_klass()
    return None, None


def codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((concept or {}).get("coding") or [])


def text_of(concept: dict[str, Any] | None) -> str:
    """Lower-cased text and coding displays of a CodeableConcept, for word matching."""
    parts = [str((concept or {}).get("text") or "")]
    parts += [str(c.get("display") or "") for c in codings(concept)]
    return " ".join(parts).lower()


def parse_instant(value: Any) -> datetime | None:
    """A FHIR date/dateTime/instant as an aware datetime (dates at 00:00 UTC)."""
    if not isinstance(value, str) or not value:
        return None
    text = value if len(value) > 7 else f"{value}-01"[:10] if len(value) == 7 else f"{value}-01-01"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _json_type(value: Any) -> str:
    """The JSON type of a parsed value, for messages that must not quote it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _strip(entry: Any) -> Any:
    """A Bundle entry without its resource (the resources are validated one by one)."""
    return {k: v for k, v in entry.items() if k != "resource"} if isinstance(entry, dict) else entry
