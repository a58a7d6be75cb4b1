"""``hepatorisk report``: the review-board report of a registered model (HTML, PDF, JSON)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hepatorisk.exceptions import ConfigError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser(
        "report",
        help="write the review-board report (report.html, report.pdf, report.json) of a model",
        description="Build the report from a model's MLflow run and log it there under report/, "
        "or rebuild HTML and PDF from a saved report.json (--from) without recomputing.",
    )
    report.add_argument("model_uri", nargs="?", help="models:/NAME@ALIAS (or /VERSION)")
    report.add_argument("--out", type=Path, help="output folder (default with --from: its folder)")
    report.add_argument("--from", dest="source", type=Path, metavar="REPORT_JSON")
    report.add_argument("--no-log", action="store_true", help="do not log to the MLflow run")
    report.add_argument("--browser", help="Chromium executable (default: $HEPATORISK_CHROMIUM)")
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from hepatorisk import reports

    if args.source is not None:
        if args.model_uri:
            raise ConfigError("give either MODEL_URI or --from REPORT_JSON, not both")
        files = reports.rebuild_report(args.source, args.out, args.browser)
    else:
        if not args.model_uri or args.out is None:
            raise ConfigError(
                "hepatorisk report needs MODEL_URI and --out DIR "
                "(e.g. models:/hepatorisk-liver@champion --out work/reports/liver), "
                "or --from DIR/report.json"
            )
        from hepatorisk import tracking

        tracking.configure()
        files = reports.build_report(
            args.model_uri, args.out, browser=args.browser, log_to_run=not args.no_log
        )
    sys.stdout.write(f"report written: {files.html}, {files.pdf}, {files.json}\n")
    return 0
