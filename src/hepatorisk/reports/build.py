"""Build the report's three files (JSON, HTML, PDF) and log them to the model's MLflow run.

``build_report`` gathers from the run; ``rebuild_report`` renders a saved ``report.json`` again
without the model, the run or any recomputation. Both write JSON and HTML before the PDF, so a
missing browser still leaves a readable report (and a clear ``BrowserError``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from hepatorisk import tracking
from hepatorisk.reports.data import ReportData
from hepatorisk.reports.gather import gather_report
from hepatorisk.reports.pdf import BrowserError, print_pdf
from hepatorisk.reports.render import render_html

__all__ = ["ReportFiles", "build_report", "rebuild_report", "write_report"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportFiles:
    json: Path
    html: Path
    pdf: Path | None


def write_report(data: ReportData, out: Path, browser: str | None = None) -> ReportFiles:
    """JSON, then HTML rendered from that JSON (so a rebuild is identical), then the PDF."""
    out.mkdir(parents=True, exist_ok=True)
    text = data.to_json()
    json_path = out / "report.json"
    json_path.write_text(text, encoding="utf-8")
    html_path = out / "report.html"
    html_path.write_text(render_html(ReportData.from_json(text)), encoding="utf-8")
    pdf_path = print_pdf(html_path, out / "report.pdf", browser)
    return ReportFiles(json_path, html_path, pdf_path)


def build_report(
    model_uri: str,
    out: Path,
    *,
    browser: str | None = None,
    log_to_run: bool = True,
    shap_sample: int = 3000,
) -> ReportFiles:
    """Gather from ``model_uri``'s run, write the files, log them as the run's ``report/``."""
    data = gather_report(model_uri, shap_sample=shap_sample)
    try:
        files = write_report(data, out, browser)
    except BrowserError:
        if log_to_run:
            _log_files(data.meta["run_id"], [out / "report.json", out / "report.html"])
        raise
    if log_to_run:
        _log_files(
            data.meta["run_id"], [files.json, files.html, *([files.pdf] if files.pdf else [])]
        )
    return files


def rebuild_report(
    source: Path, out: Path | None = None, browser: str | None = None
) -> ReportFiles:
    """Render a saved ``report.json`` again (HTML and PDF), recomputing nothing."""
    data = ReportData.read(source)
    return write_report(data, out or source.parent, browser)


def _log_files(run_id: str, paths: list[Path]) -> None:
    """The report as artifacts of the model's run (``report/``), beside its evaluation."""
    tracking.log_run_files(run_id, paths, "report")
    log.info("logged %s to run %s under report/", ", ".join(p.name for p in paths), run_id)
