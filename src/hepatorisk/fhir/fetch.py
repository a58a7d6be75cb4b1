"""What the prefetch lacks, read from the hook's ``fhirServer`` (CDS Hooks 2.0, "FHIR Resource
Access"): each missing prefetch template with ``{{context.patientId}}`` filled in, sent with the
``fhirAuthorization`` access token, a timeout, no redirects, and searchsets followed through
their ``next`` links on the same server (a few pages at most).

Errors say which prefetch key could not be read and why in the service's words (timeout, the
server's status, not FHIR JSON); they never quote the server's URL, its answer or the token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from hepatorisk.settings import Settings

__all__ = ["FetchError", "FhirFetcher", "fhir_server_problem"]

log = logging.getLogger(__name__)
MAX_PAGES = 5
MAX_BYTES = 5_000_000
FHIR_JSON = "application/fhir+json"


class FetchError(Exception):
    """A prefetch key could not be read from the fhirServer; the message quotes nothing sent."""


def fhir_server_problem(url: str, settings: Settings) -> str | None:
    """Why the service will not query ``url`` (scheme, allowed prefixes), else None."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.netloc or parts.scheme not in ("https", "http"):
        return "fhirServer must be an absolute https URL"
    if parts.scheme == "http" and not (settings.cds_fhir_server_allow_http and loopback):
        return "fhirServer must be an https URL"
    allowed = settings.cds_fhir_servers
    if allowed and not any(url.rstrip("/").startswith(p.rstrip("/")) for p in allowed):
        return "fhirServer is not one of the allowed FHIR servers (HEPATORISK_CDS_FHIR_SERVERS)"
    return None


@dataclass
class FhirFetcher:
    """Reads prefetch templates from one FHIR server with one access token."""

    base: str
    token: str | None
    timeout: float
    fetched: list[str] = field(default_factory=list)  # the keys read, for the answer's notes

    async def read(self, key: str, template: str, patient_id: str) -> dict[str, Any]:
        """The resource (a read) or the searchset Bundle of all pages (a search)."""
        query = template.replace("{{context.patientId}}", quote(patient_id, safe=""))
        url = f"{self.base.rstrip('/')}/{query}"
        headers = {"Accept": FHIR_JSON}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            first = await self._get(client, url, headers, key)
            if first.get("resourceType") != "Bundle":
                self.fetched.append(key)
                return first
            entries = list(first.get("entry") or [])
            page, pages = first, 1
            while (nxt := _next(page)) and pages < MAX_PAGES:
                if not _same_server(nxt, self.base):
                    log.warning("fhirServer paging link to another server not followed")
                    break
                page = await self._get(client, nxt, headers, key)
                entries += page.get("entry") or []
                pages += 1
        self.fetched.append(key)
        return {"resourceType": "Bundle", "type": "searchset", "entry": entries}

    async def _get(
        self, client: httpx.AsyncClient, url: str, headers: dict[str, str], key: str
    ) -> dict[str, Any]:
        try:
            r = await client.get(url, headers=headers)
        except httpx.TimeoutException:
            raise FetchError(
                f"{key}: the fhirServer did not answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            log.warning("fhirServer request failed: %s", type(exc).__name__)
            raise FetchError(f"{key}: the fhirServer could not be reached") from None
        if r.status_code != 200:
            raise FetchError(f"{key}: the fhirServer answered HTTP {r.status_code}")
        if len(r.content) > MAX_BYTES:
            raise FetchError(f"{key}: the fhirServer's answer exceeds {MAX_BYTES} bytes")
        try:
            body = r.json()
        except ValueError:
            raise FetchError(f"{key}: the fhirServer's answer is not JSON") from None
        if not isinstance(body, dict) or not isinstance(body.get("resourceType"), str):
            raise FetchError(f"{key}: the fhirServer's answer is not a FHIR resource")
        if body["resourceType"] == "OperationOutcome":
            raise FetchError(f"{key}: the fhirServer answered an OperationOutcome")
        return body


def _next(bundle: dict[str, Any]) -> str | None:
    for link in bundle.get("link") or []:
        if isinstance(link, dict) and link.get("relation") == "next":
            url = link.get("url")
            return url if isinstance(url, str) else None
    return None


def _same_server(url: str, base: str) -> bool:
    a, b = urlsplit(url), urlsplit(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc) and a.path.startswith(b.path.rstrip("/"))
