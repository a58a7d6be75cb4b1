"""Bearer-token authentication: tokens from settings, compared in constant time.

Every configured token is compared on every request (no early exit), so timing reveals neither
which token nor how much of it matched. The caller's name, never the token, is what the audit
trail and logs see.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import HTTPException, status

from hepatorisk.settings import ApiToken

__all__ = ["authenticate"]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def authenticate(presented: str | None, tokens: Sequence[ApiToken]) -> str:
    """The caller holding ``presented``; 401 when it is missing, unknown or expired."""
    if not presented:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing bearer token", _CHALLENGE)
    given = presented.encode()
    match: ApiToken | None = None
    for token in tokens:
        if hmac.compare_digest(given, token.token.get_secret_value().encode()):
            match = token
    if match is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid bearer token", _CHALLENGE)
    if match.expired(datetime.now(UTC)):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "bearer token expired", _CHALLENGE)
    return match.caller
