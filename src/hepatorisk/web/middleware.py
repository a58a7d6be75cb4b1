"""One pure-ASGI middleware: request id, body-size limit, and request metrics.

Pure ASGI (not ``BaseHTTPMiddleware``) because it runs on every request and must add no
measurable latency; a body over the limit is refused with 413 before any handler reads it, and
a ``Content-Length`` that is not a number with 400 (both with the request id). Behind uvicorn a
malformed ``Content-Length`` never gets here: its HTTP parser (h11) answers a plain-text 400 and
closes the connection before the app is called; this check covers other servers and clients
that reach the app directly (ASGI).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from hepatorisk.web.metrics import Metrics

__all__ = ["ServiceMiddleware"]

Message = dict[str, Any]


class ServiceMiddleware:
    def __init__(self, app: Any, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body_bytes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = {"code": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            length = dict(scope.get("headers", [])).get(b"content-length")
            if length is not None and not length.strip().isdigit():
                detail = "invalid Content-Length header (not a non-negative integer)"
                await _refuse(send_with_id, 400, detail, request_id)
                return
            body_receive = await self._limited(scope, receive)
            if body_receive is None:
                detail = f"request body larger than {self.max_body} bytes"
                await _refuse(send_with_id, 413, detail, request_id)
            else:
                await self.app(scope, body_receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.observe(
                scope["method"], path, status["code"], time.perf_counter() - started
            )

    async def _limited(self, scope: dict[str, Any], receive: Any) -> Any:
        """``receive`` if the body fits the limit, else None (buffers bodies without a length)."""
        headers = dict(scope.get("headers", []))
        length = headers.get(b"content-length")
        if length is not None:
            try:
                return receive if int(length) <= self.max_body else None
            except ValueError:
                return None
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return receive
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return receive
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_body:
                return None
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                message: Message = await receive()
                return message
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay


async def _refuse(send: Any, status: int, detail: str, request_id: str) -> None:
    body = json.dumps({"detail": detail, "request_id": request_id}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
