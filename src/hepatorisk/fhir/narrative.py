"""A resource's human-readable narrative (``text``): FHIR's dom-6 asks every resource for one.

Generated from a short plain-text summary, HTML-escaped, in the XHTML ``div`` FHIR requires.
"""

from __future__ import annotations

from html import escape
from typing import Any

__all__ = ["narrative", "with_narrative"]


def narrative(summary: str) -> dict[str, str]:
    """A generated ``Narrative`` whose div says ``summary``."""
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(summary)}</p></div>',
    }


def with_narrative(resource: dict[str, Any], summary: str) -> dict[str, Any]:
    """``resource`` with a generated narrative unless it has one (kept as sent)."""
    if isinstance(resource.get("text"), dict) and resource["text"].get("div"):
        return resource
    return {**resource, "text": narrative(summary)}
