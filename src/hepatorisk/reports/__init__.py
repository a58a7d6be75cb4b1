"""The review-board report: model card, Table 1, performance, SHAP, subgroups, liver safety and
the TRIPOD+AI checklist, as one self-contained HTML file, a PDF and the JSON of every number.

    build_report(model_uri, out)      gather from the model's MLflow run, write, log as report/
    rebuild_report(report_json)       render a saved report.json again, recomputing nothing
"""

from hepatorisk.reports.build import ReportFiles, build_report, rebuild_report, write_report
from hepatorisk.reports.data import ReportData
from hepatorisk.reports.gather import gather_report
from hepatorisk.reports.pdf import BROWSER_ENV, BrowserError
from hepatorisk.reports.render import SECTIONS, render_html

__all__ = [
    "BROWSER_ENV",
    "SECTIONS",
    "BrowserError",
    "ReportData",
    "ReportFiles",
    "build_report",
    "gather_report",
    "rebuild_report",
    "render_html",
    "write_report",
]
