"""Constants and helpers shared by the report tests (conftest is not importable)."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PIPELINES = REPO_ROOT / "pipelines"
SAMPLE = REPO_ROOT / "data" / "synthetic" / "sample"
FAST = ["evaluation.bootstrap=200", "model.lightgbm.n_estimators=120"]


class _LoggingHandler(SimpleHTTPRequestHandler):
    requests: list[str]

    def log_message(self, format: str, *args: object) -> None:
        type(self).requests.append(self.path)


@contextmanager
def serve_folder(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server for ``folder``; yields its base URL and the list of paths requested."""
    handler = type("Handler", (_LoggingHandler,), {"requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", handler.requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def dump_dom(browser: str, url: str) -> str:
    """The page's DOM after load, from headless Chromium (offline flags, throw-away profile)."""
    from hepatorisk.reports.pdf import chromium_command

    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [*chromium_command(browser, Path(profile)), "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    return done.stdout
