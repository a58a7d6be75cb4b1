"""Everything the mapping could not use, as an R4 OperationOutcome: nothing is dropped silently.

``error`` issues refuse the request (the caller answers 4xx with the OperationOutcome);
``warning`` and ``information`` issues travel with the answer (an OperationOutcome entry in the
response Bundle, or a line in the CDS card).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from fhir.resources.R4B.operationoutcome import OperationOutcome

from hepatorisk.fhir.narrative import narrative

__all__ = ["FhirInputError", "Issues", "Severity", "pydantic_issues"]

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass
class Issues:
    """Collects OperationOutcome.issue entries; ``expression`` names the resource and element."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, severity: Severity, code: str, diagnostics: str, *expression: str) -> None:
        issue: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
        if expression:
            issue["expression"] = list(expression)
        self.items.append(issue)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [i for i in self.items if i["severity"] in ("fatal", "error")]

    def outcome(self, request_id: str | None = None) -> dict[str, Any]:
        """A validated R4 OperationOutcome (an ``information`` 'all-ok' issue when empty); an
        error answer's has the request id as its ``id`` (that of the ``X-Request-ID`` header)."""
        items = self.items or [
            {"severity": "information", "code": "informational", "diagnostics": "no issues"}
        ]
        errors = sum(i["severity"] in ("fatal", "error") for i in items)
        raw: dict[str, Any] = {
            "resourceType": "OperationOutcome",
            "text": narrative(f"{len(items)} issue(s), {errors} error(s)"),
            "issue": items,
        }
        if request_id is not None:
            raw["id"] = request_id
        oo = OperationOutcome.model_validate(raw)
        return oo.model_dump(mode="json", exclude_none=True)

    def raise_if_errors(self, status: int = 422) -> None:
        if self.errors:
            raise FhirInputError(self, status)


class FhirInputError(Exception):
    """The input cannot be assessed; carries the OperationOutcome and the HTTP status."""

    def __init__(self, issues: Issues, status: int = 422) -> None:
        super().__init__(f"{len(issues.errors)} error(s) in the FHIR input")
        self.issues = issues
        self.status = status


def pydantic_issues(
    issues: Issues, errors: Iterable[Any], prefix: str, severity: Severity = "error"
) -> None:
    """Pydantic validation errors as issues whose expression is ``prefix.element.path``."""
    for err in errors:
        path = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in err["loc"])
        path = path.replace(".[", "[")
        issues.add(
            severity,
            "required" if err["type"] == "missing" else "invalid",
            f"{err['msg']}",
            f"{prefix}.{path}" if path else prefix,
        )
