"""HTTP plumbing of the FHIR and CDS Hooks routers: FHIR JSON bodies and OperationOutcome errors.

Route classes (not app-wide handlers) so the JSON API's error format stays as it is: under
``/fhir`` every 4xx (auth, validation, mapping) is an OperationOutcome; under ``/cds-services``
mapping errors and the 412 are OperationOutcomes and the rest keeps the service's format.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from hepatorisk.fhir.issues import FhirInputError, Issues, pydantic_issues
from hepatorisk.web.deps import declares
from hepatorisk.web.json_body import (
    BodyError,
    JsonBodyRoute,
    RefusedValuesError,
    is_json_media_type,
    load_json,
    media_type,
)

__all__ = ["CdsRoute", "FhirBodyDep", "FhirJSONResponse", "FhirRoute", "fhir_json"]

FHIR_JSON = "application/fhir+json"
_CODES = {401: "login", 403: "forbidden", 404: "not-found", 413: "too-costly", 503: "transient"}


class FhirJSONResponse(JSONResponse):
    """JSON with FHIR's media type (documented as such in the OpenAPI document)."""

    media_type = FHIR_JSON


def fhir_json(data: Any, status: int = 200) -> JSONResponse:
    return FhirJSONResponse(data, status_code=status)


@declares(400, 415, 422)  # not JSON, not FHIR JSON, not a usable Bundle
async def read_fhir_json(request: Request) -> Any:
    """The body as JSON, for ``application/json`` and ``application/fhir+json`` alike, read by
    the service's one strict loader (``web.json_body``): duplicate keys and non-finite numbers
    are refused naming their element, a body that is not JSON is a 400."""
    media = media_type(request)
    if not is_json_media_type(media):
        issues = Issues()
        shown = f"content type {media!r}" if media else "no content type"
        issues.add("error", "not-supported", f"{shown}; send {FHIR_JSON}", "body")
        raise FhirInputError(issues, 415)
    try:
        return load_json(await request.body())
    except BodyError as exc:
        issues = Issues()
        issues.add("error", "structure", exc.detail, "body")
        raise FhirInputError(issues, exc.status) from None
    except RefusedValuesError as exc:
        issues = Issues()
        for loc, kind, message in exc.problems:
            code = "duplicate" if kind == "duplicate_key" else "value"
            issues.add("error", code, message, _fhir_path(loc))
        raise FhirInputError(issues, 422) from None


def _fhir_path(loc: tuple[str | int, ...]) -> str:
    """``("entry", 0, "resource")`` as ``Bundle.entry[0].resource``."""
    return "Bundle" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


FhirBodyDep = Annotated[Any, Depends(read_fhir_json)]


def _outcome(
    request: Request, issues: Issues, status: int, headers: dict[str, str] | None = None
) -> Response:
    """The OperationOutcome answer; its ``id`` is the request id (``X-Request-ID``)."""
    request_id: str | None = request.scope.get("state", {}).get("request_id")
    response = fhir_json(issues.outcome(request_id), status)
    response.headers.update(headers or {})
    return response


class OutcomeRoute(JsonBodyRoute):
    """Answers the mapping's errors, and each error whose status is in ``outcome_statuses``, as
    an OperationOutcome: what is documented (``web.openapi``) is what is answered."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        outcome = self.outcome_statuses

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except FhirInputError as exc:
                return _outcome(request, exc.issues, exc.status)
            except BodyError as exc:
                if exc.status not in outcome:
                    raise
                issues = Issues()
                issues.add("error", "not-supported" if exc.status == 415 else "structure",
                           exc.detail, "body")  # fmt: skip
                return _outcome(request, issues, exc.status)
            except RequestValidationError as exc:
                if 422 not in outcome:
                    raise
                issues = Issues()
                pydantic_issues(issues, exc.errors(), "request")
                return _outcome(request, issues, 422)
            except HTTPException as exc:
                if exc.status_code not in outcome:
                    raise
                issues = Issues()
                issues.add("error", _CODES.get(exc.status_code, "processing"), str(exc.detail))
                return _outcome(request, issues, exc.status_code, dict(exc.headers or {}))

        return route


class CdsRoute(OutcomeRoute):
    """Mapping errors (422) and insufficient prefetch (412) as OperationOutcome; the hook
    request's own validation, auth and readiness errors in the JSON API's format."""

    outcome_statuses = frozenset({412})
    either_format = frozenset({422})


class FhirRoute(OutcomeRoute):
    """Every 4xx/503 of a FHIR endpoint as an OperationOutcome (auth, body, mapping); the 413 of
    the middleware and the 500 of the app-wide handler stay JSON."""

    outcome_statuses = frozenset({400, 401, 403, 404, 415, 422, 503})
