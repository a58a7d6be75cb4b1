"""Security headers on every response, as one pure-ASGI middleware (no measurable latency).

- ``X-Content-Type-Options: nosniff``; ``X-Frame-Options: DENY`` and CSP ``frame-ancestors
  'none'`` (no page of this service may be framed); ``Referrer-Policy: no-referrer``;
- a Content-Security-Policy that lets the self-hosted ``/docs`` and ``/redoc`` work (scripts,
  styles, fonts and images only from this origin; inline styles and blob: workers, which
  Swagger UI and ReDoc need) and nothing else: no inline script, no other origin;
- ``Cache-Control: no-store`` on every answer that did not set its own (answers carry clinical
  results), except the documentation assets, which may be cached for a day.

The answer of the app-wide 500 handler is sent by Starlette's outermost layer, outside every
middleware: that handler (``web.errors``) sets the same headers itself (:func:`security_headers`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware", "security_headers"]

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
]
_NO_STORE = (b"cache-control", b"no-store")
_CACHEABLE = (b"cache-control", b"public, max-age=86400")


def security_headers(path: str, cacheable_prefix: str = "/docs-assets/") -> dict[str, str]:
    """The headers this middleware adds, for an answer sent outside it: Starlette sends the
    app-wide 500 handler's answer from its outermost layer, which no middleware wraps."""
    cache = _CACHEABLE if path.startswith(cacheable_prefix) else _NO_STORE
    return {name.decode(): value.decode() for name, value in [*_HEADERS, cache]}


class SecurityHeadersMiddleware:
    def __init__(self, app: Any, cacheable_prefix: str = "/docs-assets/") -> None:
        self.app = app
        self.cacheable_prefix = cacheable_prefix

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(self.cacheable_prefix)

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in _HEADERS if h[0] not in present]
                if b"cache-control" not in present:
                    headers.append(_CACHEABLE if cacheable else _NO_STORE)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
