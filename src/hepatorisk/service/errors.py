"""Error responses: a 422 that names the field and what is allowed; never a 500 for bad input.

Validation errors never echo long strings and are never logged with their input, so a patient
identifier typed into a wrong field cannot reach the logs. The OpenAPI document describes the
errors as they are answered (FastAPI's default 422 schema is replaced, and the 400, 401, 404, 413,
415 and 503 each operation can answer are listed), so a client, or a schema fuzzer, can rely on it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request, status
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from hepatorisk.exceptions import DataContractError

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)

_ALLOWED_KEYS = {
    "ge": ">= {}",
    "gt": "> {}",
    "le": "<= {}",
    "lt": "< {}",
    "expected": "one of {}",
    "max_length": "at most {} items/characters",
    "min_length": "at least {} items/characters",
}


def _request_id(request: Request) -> str | None:
    return request.scope.get("state", {}).get("request_id")


def describe_error(err: dict[str, Any]) -> dict[str, Any]:
    """One validation error as {field, problem, allowed, got}."""
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    ctx = err.get("ctx") or {}
    allowed = [t.format(ctx[k]) for k, t in _ALLOWED_KEYS.items() if k in ctx]
    got = err.get("input")
    if not isinstance(got, int | float | bool) or err.get("type") == "extra_forbidden":
        got = None
    message = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        message = "unknown field (not part of the request schema)"
    if err.get("type") == "missing":
        message = "required field is missing"
    return {
        "field": ".".join(loc) or "body",
        "problem": message,
        "allowed": " and ".join(allowed) or None,
        "got": got,
    }


def install_error_handlers(app: FastAPI) -> None:
    document_errors(app)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [describe_error(e) for e in exc.errors()]
        return JSONResponse(
            {"detail": errors, "request_id": _request_id(request)},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(DataContractError)
    async def _contract(request: Request, exc: DataContractError) -> JSONResponse:
        return JSONResponse(
            {
                "detail": [{"field": "body", "problem": str(exc), "allowed": None, "got": None}],
                "request_id": _request_id(request),
            },
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        rid = _request_id(request)
        log.error("request %s failed: %s", rid, type(exc).__name__)
        return JSONResponse(
            {"detail": "internal error; quote the request id to the operators", "request_id": rid},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )


_NULLABLE_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}]}
_SCHEMAS: dict[str, dict[str, Any]] = {
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
        "required": ["detail"],
        "properties": {
            "detail": {"type": "array", "items": {"$ref": "#/components/schemas/ValidationError"}},
            "request_id": _NULLABLE_STRING,
        },
    },
    "ErrorMessage": {
        "title": "ErrorMessage",
        "type": "object",
        "required": ["detail"],
        "properties": {"detail": {"type": "string"}, "request_id": _NULLABLE_STRING},
    },
    "OperationOutcome": {
        "title": "OperationOutcome",
        "description": "FHIR R4 OperationOutcome (the errors of the FHIR and CDS Hooks endpoints)",
        "type": "object",
        "required": ["resourceType", "issue"],
        "properties": {
            "resourceType": {"const": "OperationOutcome"},
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
_DESCRIPTIONS = {
    400: "body is not parseable",
    401: "missing, unknown or expired bearer token",
    404: "unknown resource",
    413: "request body larger than the configured limit",
    415: "unsupported content type",
    422: "invalid input",
    503: "models not loaded yet or audit log not open",
}


def _ref(name: str) -> dict[str, Any]:
    return {"schema": {"$ref": f"#/components/schemas/{name}"}}


def _json(name: str) -> dict[str, Any]:
    return {"application/json": _ref(name)}


def _fhir() -> dict[str, Any]:
    return {"application/fhir+json": _ref("OperationOutcome")}


def _calls(dependant: Dependant) -> set[Any]:
    calls = {dependant.call}
    for sub in dependant.dependencies:
        calls |= _calls(sub)
    return calls


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

    app.openapi = openapi  # type: ignore[method-assign]


def _add_error_responses(schema: dict[str, Any], app: FastAPI) -> None:
    # imported here: the FHIR package imports the service's routers
    from hepatorisk.fhir.http import CdsRoute, FhirRoute
    from hepatorisk.service.deps import get_audit, get_models

    schema.setdefault("components", {}).setdefault("schemas", {}).update(_SCHEMAS)
    for path, route in _api_routes(app):
        for method in route.methods:
            operation = schema["paths"].get(path, {}).get(method.lower())
            if operation is None:
                continue
            fhir = isinstance(route, FhirRoute)
            errors: dict[int, dict[str, Any]] = {}
            if "requestBody" in operation:
                errors[400] = _fhir() if fhir else _json("ErrorMessage")
                errors[413] = _json("ErrorMessage")  # the middleware's, before any route
            if operation.get("security"):
                errors[401] = _fhir() if fhir else _json("ErrorMessage")
            if route.dependant.path_params:
                errors[404] = _json("ErrorMessage")
            if fhir:
                errors[415] = errors[422] = _fhir()
            if _calls(route.dependant) & {get_models, get_audit}:
                errors[503] = _fhir() if fhir else _json("ErrorMessage")
            responses = operation.setdefault("responses", {})
            for code, content in errors.items():
                responses.setdefault(str(code), {"description": _DESCRIPTIONS[code]})
                responses[str(code)].setdefault("content", {}).update(content)
            if isinstance(route, CdsRoute):  # mapping errors and the 412 are OperationOutcomes
                for code in ("412", "422"):
                    if code in responses:
                        responses[code].setdefault("content", {}).update(_fhir())
            operation["responses"] = dict(sorted(responses.items()))
