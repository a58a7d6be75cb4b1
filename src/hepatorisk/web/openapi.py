"""The OpenAPI document's error responses, as they are really answered.

For every operation: the statuses its dependency tree can answer (each dependency ``declares``
them, ``deps.py``), the 400/413/422 of a request body or parameters (and the 415 of a JSON body
read by ``web.json_body.JsonBodyRoute``), the 404 of a path parameter,
the route's own documented statuses, and the 500 of the app-wide handler (routes that call
anything); each with the body it
really has: the project's ``{field, problem, allowed, got}`` 422, ``{detail, request_id}``
elsewhere, or a FHIR OperationOutcome where the route class answers in FHIR
(``DocumentedRoute.outcome_statuses``). ``tests/web/test_openapi_statuses.py`` produces every
documented status and checks its body against the document.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from hepatorisk.web.deps import STATUSES

__all__ = ["DocumentedRoute", "document_errors"]

FHIR_JSON = "application/fhir+json"


class DocumentedRoute(APIRoute):
    """A route that answers some error statuses as FHIR OperationOutcomes."""

    #: statuses answered only as OperationOutcome (``application/fhir+json``)
    outcome_statuses: ClassVar[frozenset[int]] = frozenset()
    #: statuses answered in either format (e.g. mapping errors in FHIR, request errors in JSON)
    either_format: ClassVar[frozenset[int]] = frozenset()


_NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_REQUEST_ID = {
    **_NULLABLE_STRING,
    "description": "the X-Request-ID header's id; quote it to the operators",
}
SCHEMAS: dict[str, dict[str, Any]] = {
    # FastAPI's names, so its own references to them (every 422) describe what is answered
    "ValidationError": {
        "title": "ValidationError",
        "description": "One refused field: where, what is wrong, what is allowed, the number given",
        "type": "object",
        "required": ["field", "problem", "allowed", "got"],
        "properties": {
            "field": {"type": "string"},
            "problem": {"type": "string"},
            "allowed": _NULLABLE_STRING,
            "got": {"anyOf": [{"type": "number"}, {"type": "boolean"}, {"type": "null"}]},
        },
    },
    "HTTPValidationError": {
        "title": "HTTPValidationError",
        "type": "object",
        "required": ["detail", "request_id"],
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
            "request_id": _REQUEST_ID,
        },
    },
    "ErrorMessage": {
        "title": "ErrorMessage",
        "type": "object",
        "required": ["detail", "request_id"],
        "properties": {"detail": {"type": "string"}, "request_id": _REQUEST_ID},
    },
    "OperationOutcome": {
        "title": "OperationOutcome",
        "description": "FHIR R4 OperationOutcome (the errors of the FHIR and CDS Hooks endpoints); "
        "its id is the request id (the X-Request-ID header)",
        "type": "object",
        "required": ["resourceType", "id", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
            "id": {"type": "string"},
            "issue": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["severity", "code"],
                    "properties": {
                        "severity": {"enum": ["fatal", "error", "warning", "information"]},
                        "code": {"type": "string"},
                        "diagnostics": {"type": "string"},
                        "expression": {"type": "array", "items": {"type": "string"}},
                    },
                },
            },
        },
    },
}
DESCRIPTIONS = {
    400: "body is not parseable",
    401: "missing, unknown or expired bearer token",
    404: "unknown resource",
    412: "prefetch insufficient",
    413: "request body larger than the configured limit",
    415: "unsupported content type",
    422: "invalid input",
    500: "unexpected error; quote the request id to the operators",
    503: "models not loaded yet or audit log not open",
}


def _ref(name: str) -> dict[str, Any]:
    return {"schema": {"$ref": f"#/components/schemas/{name}"}}


def _declared(dependant: Dependant) -> set[int]:
    """The statuses the dependencies of this tree declare."""
    codes = set(STATUSES.get(dependant.call, ())) if dependant.call else set()
    for sub in dependant.dependencies:
        codes |= _declared(sub)
    return codes


def _api_routes(app: FastAPI) -> Iterator[tuple[str, APIRoute]]:
    """(path as in the OpenAPI document, route) of every API route, in included routers too."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)  # FastAPI >= 0.13x
    if contexts is None:
        pairs = ((getattr(r, "path_format", None), r) for r in app.routes)
    else:
        pairs = ((c.path_format, c.original_route) for c in contexts(app.routes))
    for path, route in pairs:
        if path is not None and isinstance(route, APIRoute) and route.include_in_schema:
            yield path, route


def error_statuses(route: APIRoute, operation: dict[str, Any]) -> set[int]:
    """Every error status this operation can answer."""
    codes = _declared(route.dependant)
    if route.dependant.dependencies or route.body_field is not None:
        codes |= {500}  # the app-wide handler's, for anything the route calls that fails
    if "requestBody" in operation:
        codes |= {413}
        if route.body_field is not None:
            codes |= {400}  # a body that is not JSON (truncated, not UTF-8, too deeply nested)
            if getattr(route, "reads_json_body", False):
                codes |= {415}  # a body whose content type is not JSON (``web.json_body``)
    if operation.get("parameters") or route.body_field is not None:
        codes |= {422}
    if route.dependant.path_params:
        codes |= {404}
    codes |= {int(c) for c in operation.get("responses", {}) if c.isdigit() and int(c) >= 400}
    return codes


def _content(route: APIRoute, code: int) -> dict[str, Any]:
    outcome: frozenset[int] = getattr(route, "outcome_statuses", frozenset())
    either: frozenset[int] = getattr(route, "either_format", frozenset())
    json_body = _ref("HTTPValidationError" if code == 422 else "ErrorMessage")
    if code in outcome:
        return {FHIR_JSON: _ref("OperationOutcome")}
    if code in either:
        return {"application/json": json_body, FHIR_JSON: _ref("OperationOutcome")}
    return {"application/json": json_body}


def document_errors(app: FastAPI) -> None:
    """Make ``app.openapi()`` describe the error responses the service really gives."""
    build = app.openapi
    done: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = build()  # FastAPI's, cached until the routes change
        if not done or done[0] is not schema:
            _add_error_responses(schema, app)
            done[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented override


def _add_error_responses(schema: dict[str, Any], app: FastAPI) -> None:
    schema.setdefault("components", {}).setdefault("schemas", {}).update(SCHEMAS)
    for path, route in _api_routes(app):
        for method in route.methods or ():
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for code in sorted(error_statuses(route, operation)):
                documented = responses.setdefault(str(code), {"description": DESCRIPTIONS[code]})
                # a route's own error body stays (the readiness probe's 503); FastAPI's default
                # 422 is replaced by what the handlers answer
                if code == 422 or "content" not in documented:
                    documented["content"] = _content(route, code)
            operation["responses"] = dict(sorted(responses.items()))
