"""Print the HTML report to PDF with headless Chromium (Debian package ``chromium``).

The browser is found through ``HEPATORISK_CHROMIUM`` (a path or command name) or else on PATH;
it runs with networking features off and a throw-away profile, so it can print offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from hepatorisk.exceptions import HepatoriskError

__all__ = ["BROWSER_ENV", "BrowserError", "chromium_command", "find_browser", "print_pdf"]

BROWSER_ENV = "HEPATORISK_CHROMIUM"
_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_TIMEOUT_S = 120


class BrowserError(HepatoriskError):
    """Headless Chromium is missing or failed, so no PDF was written."""


def find_browser(browser: str | None = None) -> str:
    """The Chromium executable: the argument, ``$HEPATORISK_CHROMIUM``, else the first on PATH."""
    wanted = browser or os.environ.get(BROWSER_ENV)
    names = (wanted,) if wanted else _CANDIDATES
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    where = f"{BROWSER_ENV}={wanted}" if wanted else "PATH (" + ", ".join(_CANDIDATES) + ")"
    raise BrowserError(
        f"no headless Chromium found via {where}, so report.pdf was not written (report.html "
        "and report.json were). Install it (Debian/Ubuntu: `apt-get install -y chromium`) or set "
        f"{BROWSER_ENV} to its path, then run `hepatorisk report --from DIR/report.json`."
    )


def chromium_command(browser: str, profile: Path) -> list[str]:
    """Headless, sandbox-free (containers), no GPU, no background or network services."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
    ]


def print_pdf(html: Path, pdf: Path, browser: str | None = None) -> Path:
    exe = find_browser(browser)
    pdf.unlink(missing_ok=True)  # never leave an older PDF looking current
    with tempfile.TemporaryDirectory(prefix="hepatorisk-chromium-") as profile:
        command = [
            *chromium_command(exe, Path(profile)),
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf.resolve()}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_S)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BrowserError(f"{exe} could not print {html} ({exc})") from None
    if done.returncode != 0 or not pdf.is_file() or pdf.stat().st_size == 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise BrowserError(f"{exe} failed to print {html} (exit {done.returncode}): {tail}")
    return pdf
