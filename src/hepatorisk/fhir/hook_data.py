"""A hook request's data: the prefetch, and what it lacks read from the fhirServer.

CDS Hooks 2.0 semantics, key by key (``cds_hooks.PREFETCH``):

- a resource or a Bundle: used as sent (an empty searchset is "no such data");
- ``null`` (or ``prefetch`` itself ``null``): the client has no such data: nothing is fetched, the
  assessment uses what there is (or the card asks for what is missing);
- an OperationOutcome in place of the data (the client failed to read it) or an absent key: read
  from ``fhirServer`` with ``fhirAuthorization``; when there is no fhirServer, or it cannot
  supply a required key (``patient``, ``liverLabs``), the answer is 412.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hepatorisk.fhir.cds_hooks import PREFETCH, REQUIRED_PREFETCH, CdsRequest
from hepatorisk.fhir.fetch import FetchError, FhirFetcher, fhir_server_problem
from hepatorisk.fhir.issues import FhirInputError, Issues
from hepatorisk.settings import Settings

__all__ = ["HookData", "PrefetchInsufficientError", "gather", "prefetch_bundle"]

_ABSENT = object()


class PrefetchInsufficientError(FhirInputError):
    """Required data is neither prefetched nor obtainable from a fhirServer: 412."""


@dataclass
class HookData:
    """The hook's resources as one collection Bundle, where each came from, and notes."""

    bundle: dict[str, Any]
    origins: list[tuple[str, str]] = field(default_factory=list)  # (entry path, resource path)
    no_data: list[str] = field(default_factory=list)  # keys the client said it has no data for
    fetched: list[str] = field(default_factory=list)  # keys read from the fhirServer
    notes: Issues = field(default_factory=Issues)


async def gather(body: CdsRequest, settings: Settings) -> HookData:
    """The hook's data, reading absent or failed prefetch keys from the fhirServer."""
    sent = "prefetch" in body.model_fields_set
    prefetch = body.prefetch
    values: dict[str, Any] = {}
    for key in PREFETCH:
        if prefetch is None:
            values[key] = None if sent else _ABSENT  # `"prefetch": null` is "no data"
        else:
            values[key] = prefetch.get(key, _ABSENT)
    for key, value in (prefetch or {}).items():
        values.setdefault(key, value)  # keys beyond the templates are read as sent
    notes = Issues()
    wanted = [k for k in PREFETCH if values[k] is _ABSENT or _failed_read(values[k])]
    fetcher = _fetcher(body, settings, wanted, notes)
    unobtainable: list[str] = []
    for key in wanted:
        if fetcher is None:
            if key in REQUIRED_PREFETCH:
                unobtainable.append(f"{key}: not prefetched and no fhirServer to read it from")
            values[key] = None
            continue
        try:
            values[key] = await fetcher.read(key, PREFETCH[key], body.patient_id)
        except FetchError as exc:
            if key in REQUIRED_PREFETCH:
                unobtainable.append(str(exc))
            else:
                notes.add("warning", "incomplete", f"{exc}; assessed without it", f"fetched.{key}")
            values[key] = None
    if unobtainable:
        issues = Issues()
        issues.add(
            "error",
            "incomplete",
            "prefetch insufficient: " + "; ".join(unobtainable),
            "prefetch",
        )
        raise PrefetchInsufficientError(issues, 412)
    fetched = fetcher.fetched if fetcher else []
    data = HookData({}, no_data=[k for k, v in values.items() if v is None], fetched=fetched)
    data.bundle, data.origins = _collect(values, set(fetched))
    data.notes = notes
    return data


def _fetcher(
    body: CdsRequest, settings: Settings, wanted: list[str], notes: Issues
) -> FhirFetcher | None:
    if not wanted or not body.fhirServer:
        return None
    problem = fhir_server_problem(body.fhirServer, settings)
    if problem is not None:
        issues = Issues()
        issues.add("error", "security", f"{problem}; missing: {', '.join(wanted)}", "fhirServer")
        raise PrefetchInsufficientError(issues, 412)
    return FhirFetcher(body.fhirServer, body.access_token, settings.cds_http_timeout)


def prefetch_bundle(prefetch: dict[str, Any] | None) -> tuple[dict[str, Any], list[str]]:
    """The prefetched resources as one collection Bundle, and the required keys without data."""
    keys = [*PREFETCH, *(k for k in prefetch or {} if k not in PREFETCH)]
    values = {k: (prefetch or {}).get(k) for k in keys}
    bundle, _ = _collect(values, set())
    missing = [k for k in REQUIRED_PREFETCH if values.get(k) is None or _failed_read(values[k])]
    return bundle, missing


def _failed_read(value: Any) -> bool:
    return isinstance(value, dict) and value.get("resourceType") == "OperationOutcome"


def _collect(
    values: dict[str, Any], fetched: set[str]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """One collection Bundle of every resource, and where each entry came from in the request
    (``prefetch.liverLabs.entry[0]``) or the fhirServer (``fetched.liverLabs.entry[0]``)."""
    entries: list[dict[str, Any]] = []
    origins: list[tuple[str, str]] = []
    for key, value in values.items():
        if value is None or value is _ABSENT or _failed_read(value):
            continue
        root = f"fetched.{key}" if key in fetched else f"prefetch.{key}"
        if isinstance(value, dict) and value.get("resourceType") == "Bundle":
            items = value.get("entry") or []
            # malformed entries are passed on, so the mapper names them in its OperationOutcome
            many = isinstance(items, list)
            for i, e in enumerate(items if many else [items]):
                at = f"{root}.entry[{i}]" if many else f"{root}.entry"
                entries.append(e if isinstance(e, dict) else {"resource": e})
                origins.append((at, f"{at}.resource" if isinstance(e, dict) else at))
        else:
            entries.append({"resource": value})
            origins.append((root, root))
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}, origins
