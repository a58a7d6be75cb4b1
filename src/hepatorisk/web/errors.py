"""Error responses: a 422 that names the field and what is allowed; never a 500 for bad input.

Validation errors never echo long strings and are never logged with their input, so a patient
identifier typed into a wrong field cannot reach the logs. Every error body of the JSON API
carries the request id (``{detail, request_id}``; the 401, 404, 405 and 503 of an
``HTTPException`` too), the one of the ``X-Request-ID`` header. ``openapi.py`` documents these
bodies.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from hepatorisk.exceptions import DataContractError
from hepatorisk.web.headers import security_headers
from hepatorisk.web.json_body import BodyError
from hepatorisk.web.openapi import document_errors

__all__ = ["describe_error", "install_error_handlers"]

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
# what a value of the wrong type should have been (strict types: no "48" for 48, no 1 for true)
_EXPECTED = {
    "float_type": "a number",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "bool_type": "true or false",
    "string_type": "a string",
    "model_type": "an object",
    "dict_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
    "finite_number": "a finite number",
    "duplicate_key": "each key once per object",
}


def _request_id(request: Request) -> str | None:
    request_id: str | None = request.scope.get("state", {}).get("request_id")
    return request_id


def _shown(value: Any) -> int | float | bool | None:
    """The value given, if it is a number (never a string: it may be an identifier) and finite
    (JSON has no NaN or Infinity: encoding one would fail the error response itself)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value if isinstance(value, int | float | bool) else None


def describe_error(err: dict[str, Any]) -> dict[str, Any]:
    """One validation error as {field, problem, allowed, got}."""
    loc = [str(p) for p in err.get("loc", ()) if p != "body"]
    ctx = err.get("ctx") or {}
    allowed = [t.format(ctx[k]) for k, t in _ALLOWED_KEYS.items() if k in ctx]
    expected = _EXPECTED.get(str(err.get("type")))
    if expected and not allowed:
        allowed = [expected]
    got = _shown(err.get("input")) if err.get("type") != "extra_forbidden" else None
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

    @app.exception_handler(BodyError)
    async def _body(request: Request, exc: BodyError) -> JSONResponse:
        return JSONResponse(
            {"detail": exc.detail, "request_id": _request_id(request)}, status_code=exc.status
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

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        """Starlette's answer (401, 404, 405, 503, ...) with the request id in the body."""
        headers = dict(exc.headers or {})
        if exc.status_code in (204, 304):  # no body allowed
            return Response(status_code=exc.status_code, headers=headers)
        return JSONResponse(
            {"detail": str(exc.detail), "request_id": _request_id(request)},
            status_code=exc.status_code,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        """The 500: Starlette sends it from its outermost layer, outside every middleware, so
        the request id and the security headers are set here."""
        rid = _request_id(request)
        log.error("request %s failed: %s", rid, type(exc).__name__)
        headers = security_headers(request.url.path)
        if rid is not None:
            headers["X-Request-ID"] = rid
        return JSONResponse(
            {"detail": "internal error; quote the request id to the operators", "request_id": rid},
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            headers=headers,
        )
