"""A local HTTP server the FHIR tests start (no network): JWK Sets and a FHIR endpoint.

Each test sets the answers it needs (``routes``: path with query -> status, JSON body, delay) and
reads what was asked (``requests``: path and Authorization header).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote


@dataclass
class LocalServer:
    base: str
    routes: dict[str, tuple[int, Any, float]] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)

    def answer(self, path: str, body: Any, status: int = 200, delay: float = 0.0) -> None:
        self.routes[path] = (status, body, delay)

    def reset(self) -> None:
        self.routes.clear()
        self.requests.clear()


@contextmanager
def local_server() -> Iterator[LocalServer]:
    state: LocalServer | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            assert state is not None
            path = unquote(self.path)
            state.requests.append((path, self.headers.get("Authorization")))
            route = state.routes.get(path) or state.routes.get(path.split("?")[0])
            status, body, delay = route or (404, {"resourceType": "OperationOutcome"}, 0.0)
            time.sleep(delay)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state = LocalServer(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
