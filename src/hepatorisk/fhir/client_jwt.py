"""CDS Hooks 2.0 client authentication: the EHR's signed JWT, verified with joserfc.

The spec's rules (cds-hooks/docs ``specification/current.md``, "Trusting CDS Clients"): the CDS
client signs a JWT with ES384 or RS384; ``iss`` names the client, ``aud`` the CDS service URL,
``exp`` is near, ``jti`` is unique; the client's public keys are at its JWK Set URL (``jku`` or
out of band: here, configured per issuer in ``HEPATORISK_CDS_JWT_ISSUERS``). The token is
refused (401) when the issuer is not configured, the signature, algorithm, ``aud`` or ``exp`` does
not verify, or its ``jti`` was already seen within the replay window. No message quotes the
token or one of its claims.

JWK Sets are fetched with a timeout and kept for ``cds_jwks_cache_seconds``; a ``kid`` that the
cached set lacks triggers one refetch (key rotation), at most every few seconds per issuer.
The replay cache lives in the process: with several workers each keeps its own (a replay to
another worker within the window is not detected; run one worker per replay domain, or put a
shared cache in front, if that matters).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from hepatorisk.settings import CdsIssuer, Settings

__all__ = ["ALGORITHMS", "ClientJwtVerifier", "JwtRefusedError", "looks_like_jwt"]

log = logging.getLogger(__name__)
ALGORITHMS = ("ES384", "RS384")  # CDS Hooks 2.0: clients sign with ES384 or RS384
MAX_JWKS_BYTES = 200_000
MIN_REFETCH_SECONDS = 5.0


class JwtRefusedError(Exception):
    """The JWT is not accepted; the message says why without quoting the token."""


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts: a compact JWS (static API tokens are one opaque string)."""
    parts = token.split(".")
    return len(parts) == 3 and all(parts[:2])


@dataclass
class _CachedSet:
    keys: KeySet
    fetched: float


@dataclass
class ClientJwtVerifier:
    """Verifies CDS client JWTs against the configured issuers; one per app."""

    settings: Settings
    clock: Callable[[], float] = time.time
    _sets: dict[str, _CachedSet] = field(default_factory=dict)
    _seen: dict[tuple[str, str], float] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def audiences(self) -> list[str]:
        """The ``aud`` values accepted: the discovery URL and each service's endpoint URL."""
        from hepatorisk.fhir.cds_hooks import SERVICE_IDS

        base = (self.settings.cds_audience or "").rstrip("/")
        return [base, *(f"{base}/{sid}" for sid in SERVICE_IDS)] if base else []

    async def verify(self, token: str) -> str:
        """The caller name of the issuer whose valid JWT ``token`` is; else JwtRefusedError."""
        try:
            compact = jws.extract_compact(token.encode())
            header = compact.headers()
            claims = json.loads(compact.payload)
        except (JoseError, ValueError, TypeError, UnicodeDecodeError):
            raise JwtRefusedError("the bearer token is not a well-formed JWT") from None
        if not isinstance(claims, dict):
            raise JwtRefusedError("the JWT's payload is not a JSON object")
        if header.get("alg") not in ALGORITHMS:
            raise JwtRefusedError(f"the JWT's alg must be one of {', '.join(ALGORITHMS)}")
        issuer = next(
            (i for i in self.settings.cds_jwt_issuers if i.iss == claims.get("iss")), None
        )
        if issuer is None:
            raise JwtRefusedError("the JWT's iss is not an allowed CDS client")
        keys = await self._keys(issuer, header.get("kid"))
        try:
            decoded = jwt.decode(token, keys, algorithms=list(ALGORITHMS))
        except (JoseError, ValueError):
            raise JwtRefusedError(
                "the JWT's signature does not verify with the issuer's keys"
            ) from None
        self._check_claims(decoded.claims)
        self._not_replayed(issuer.iss, decoded.claims)
        return issuer.caller

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = int(self.clock())
        registry = JWTClaimsRegistry(
            now=now,
            leeway=self.settings.cds_jwt_leeway_seconds,
            iss={"essential": True},
            aud={"essential": True, "values": self.audiences()},
            exp={"essential": True},
            jti={"essential": True},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            claim = "exp" if isinstance(exc, ExpiredTokenError) else getattr(exc, "claim", None)
            what = f"the JWT's {claim} claim" if isinstance(claim, str) else "the JWT's claims"
            rule = {
                "aud": "must be this service's URL (HEPATORISK_CDS_AUDIENCE or a service "
                "endpoint under it)",
                "exp": "is required and must be in the future",
                "jti": "is required",
            }.get(str(claim), f"not valid ({exc.error})")
            raise JwtRefusedError(f"{what} {rule}") from None
        window = self.settings.cds_jti_window_seconds
        if not isinstance(claims.get("exp"), int | float) or claims["exp"] > now + window:
            raise JwtRefusedError(
                f"the JWT's exp must be at most {window} s ahead (the replay window)"
            )

    def _not_replayed(self, iss: str, claims: dict[str, Any]) -> None:
        now = self.clock()
        self._seen = {k: until for k, until in self._seen.items() if until > now}
        key = (iss, str(claims["jti"]))
        if key in self._seen:
            raise JwtRefusedError("the JWT's jti was already used (replay)")
        keep = float(claims["exp"]) + self.settings.cds_jwt_leeway_seconds
        self._seen[key] = max(keep, now + self.settings.cds_jti_window_seconds)

    async def _keys(self, issuer: CdsIssuer, kid: Any) -> KeySet:
        if issuer.jwks is not None:
            return _key_set(issuer.jwks)
        assert issuer.jwks_url is not None  # one of the two (CdsIssuer)
        async with self._lock:
            cached = self._sets.get(issuer.jwks_url)
            if cached is not None:
                age = self.clock() - cached.fetched
                rotated = kid is not None and not _has_kid(cached.keys, kid)
                fresh = age < self.settings.cds_jwks_cache_seconds
                if fresh and not (rotated and age >= MIN_REFETCH_SECONDS):
                    return cached.keys
            keys = await self._fetch(issuer.jwks_url)
            self._sets[issuer.jwks_url] = _CachedSet(keys, self.clock())
            return keys

    async def _fetch(self, url: str) -> KeySet:
        try:
            async with httpx.AsyncClient(
                timeout=self.settings.cds_http_timeout, follow_redirects=False
            ) as client:
                r = await client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            log.warning("JWK Set fetch failed: %s", type(exc).__name__)
            raise JwtRefusedError("the issuer's JWK Set could not be fetched") from None
        if r.status_code != 200 or len(r.content) > MAX_JWKS_BYTES:
            log.warning("JWK Set fetch answered %s (%d bytes)", r.status_code, len(r.content))
            raise JwtRefusedError("the issuer's JWK Set could not be fetched")
        try:
            return _key_set(r.json())
        except (ValueError, JwtRefusedError):
            raise JwtRefusedError("the issuer's JWK Set is not a valid JWK Set") from None


def _key_set(raw: Any) -> KeySet:
    try:
        return KeySet.import_key_set(raw)
    except (JoseError, ValueError, TypeError, KeyError):
        raise JwtRefusedError("the issuer's JWK Set is not a valid JWK Set") from None


def _has_kid(keys: KeySet, kid: Any) -> bool:
    return any(k.kid == kid for k in keys.keys)
