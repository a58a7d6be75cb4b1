"""``hepatorisk monitor | outcomes import | recalibrate``: after deployment (issue 18)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _out(text: str) -> None:
    sys.stdout.write(text + "\n")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    monitor = sub.add_parser(
        "monitor",
        help="drift and performance of a model over a window (monitor.html, monitor.json)",
        description="Input drift per feature (PSI against the model's training reference, "
        "missing rates), prediction drift, band shares, performance estimated before outcomes "
        "and realised once they are in. Thresholds: the pipeline file's monitoring: block.",
    )
    monitor.add_argument("model", help="models:/NAME@ALIAS, or an exported folder")
    monitor.add_argument(
        "--records",
        required=True,
        help="the monitoring store (a SQLAlchemy URL, e.g. sqlite:///work/monitoring.db) or a "
        "Parquet/CSV table of patient records (scored here)",
    )
    monitor.add_argument("--outcome", help="table input: the 0/1 outcome column, when known")
    monitor.add_argument("--from", dest="first", metavar="YYYY-Www", help="first ISO week")
    monitor.add_argument("--to", dest="last", metavar="YYYY-Www", help="last ISO week")
    monitor.add_argument("--pipeline", type=Path, help="pipeline file with the thresholds")
    monitor.add_argument("--out", type=Path, required=True, help="output folder")
    monitor.set_defaults(handler=_monitor)

    outcomes = sub.add_parser("outcomes", help="outcome feedback for monitored assessments")
    verbs = outcomes.add_subparsers(dest="verb", required=True, metavar="VERB")
    imp = verbs.add_parser(
        "import",
        help="import outcomes (CSV/Parquet: outcome, value and request_id[, item] or "
        "patient_ref, which is stored only as its keyed hash)",
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--db", required=True, help="the monitoring store's SQLAlchemy URL")
    imp.add_argument("--env-file", type=Path, help="settings file with the identifier salt")
    imp.add_argument("--caller", default="import", help="who reported them (stored)")
    imp.set_defaults(handler=_import_outcomes)

    recal = sub.add_parser(
        "recalibrate",
        help="logistic recalibration on local labelled data, registered as a challenger",
    )
    recal.add_argument("model", help="models:/NAME@champion, or an exported folder")
    recal.add_argument("--data", type=Path, required=True, help="Parquet/CSV of local records")
    recal.add_argument("--outcome", required=True, help="the 0/1 outcome column of --data")
    recal.add_argument("--pipeline", type=Path, help="pipeline file (monitoring.recalibration)")
    recal.add_argument("--out", type=Path, help="folder for the model when MODEL is a folder")
    recal.set_defaults(handler=_recalibrate)


def _monitor(args: argparse.Namespace) -> int:
    from hepatorisk import tracking
    from hepatorisk.clinical.monitoring import load_policy
    from hepatorisk.exceptions import ConfigError
    from hepatorisk.monitoring.report import (
        gauge_values,
        monitor,
        window_from_records,
        window_from_store,
        write_report,
    )
    from hepatorisk.monitoring.store import MonitoringStore
    from hepatorisk.monitoring.thresholds import load_thresholds
    from hepatorisk.training.scoring import read_records

    tracking.configure()
    spec = load_thresholds(args.pipeline)
    model = tracking.load_versioned_model(args.model)
    span = f"weeks {args.first or 'first'} to {args.last or 'latest'}"
    store = None
    if "://" in args.records:
        store = MonitoringStore(args.records)
        store.purge()
        frame = store.window(model.name, args.first, args.last)
        if args.outcome:
            raise ConfigError("--outcome is for a table of records; the store holds outcomes")
        if frame.empty:
            raise ConfigError(f"{model.name}: no monitoring records in {span}")
        window = window_from_store(model.bundle, frame, f"monitoring store, {span}")
    else:
        if args.first or args.last:
            raise ConfigError("--from/--to select weeks of the monitoring store, not of a table")
        records = read_records(Path(args.records))
        window = window_from_records(
            model.bundle, records, load_policy(), args.outcome, f"records {args.records}"
        )
    result = monitor(model.bundle, window, spec)
    json_path, html_path = write_report(result, args.out)
    if store is not None:
        store.save_summary(model.name, model.version or "unversioned", gauge_values(result))
        store.close()
    est = result["estimated"]
    lines = [
        f"{model.name} v{model.version or '?'}: {result['n']} assessments ({result['window']})",
        f"  estimated AUROC {est['auroc']:.3f} (calibrated range {est['auroc_lo']:.3f}-"
        f"{est['auroc_hi']:.3f}); expected events {est['expected_events']:.1f}",
    ]
    if result.get("estimated_awaiting"):
        a = result["estimated_awaiting"]
        lines.append(
            f"  rows awaiting outcomes ({a['n']}): estimated AUROC {a['auroc']:.3f} "
            f"[{a['auroc_lo']:.3f}, {a['auroc_hi']:.3f}] after recalibration on the known ones"
        )
    if result.get("realised"):
        r = result["realised"]
        lines.append(
            f"  realised AUROC {r['auroc']['estimate']:.3f} [{r['auroc']['lo']:.3f}, "
            f"{r['auroc']['hi']:.3f}]; observed/expected {r['oe_ratio']:.2f}; calibration "
            f"intercept {r['cal_intercept']['estimate']:+.2f} [{r['cal_intercept']['lo']:+.2f}, "
            f"{r['cal_intercept']['hi']:+.2f}], slope {r['cal_slope']['estimate']:.2f} "
            f"[{r['cal_slope']['lo']:.2f}, {r['cal_slope']['hi']:.2f}]"
        )
    lines += [f"  FLAG {f}" for f in result["flags"]] or ["  no flags"]
    lines.append(f"  written: {html_path}, {json_path}")
    _out("\n".join(lines))
    return 0


def _import_outcomes(args: argparse.Namespace) -> int:
    import pandas as pd
    from pydantic import ValidationError

    from hepatorisk.exceptions import ConfigError, DataContractError
    from hepatorisk.monitoring.store import MonitoringStore, Outcome, patient_key
    from hepatorisk.settings import Settings
    from hepatorisk.training.scoring import read_records

    table = read_records(args.file)
    for needed in ("outcome", "value"):
        if needed not in table.columns:
            raise DataContractError(f"{args.file}: needs a column {needed!r}")
    salt = None
    if "patient_ref" in table.columns:
        try:
            settings = Settings(_env_file=args.env_file)
        except ValidationError as exc:
            raise ConfigError(f"invalid settings: {exc.errors()[0]['msg']}") from None
        salt = settings.identifier_salt.get_secret_value()
        if not salt:
            raise ConfigError(
                "patient_ref needs the identifier salt (HEPATORISK_IDENTIFIER_SALT or --env-file)"
            )
    rows = []
    for i, r in enumerate(table.to_dict("records")):
        ref = r.get("patient_ref")
        request_id = r.get("request_id")
        item = r.get("item")
        try:
            value = int(r["value"])
        except (TypeError, ValueError):
            raise DataContractError(f"{args.file}: row {i}: value must be 0 or 1") from None
        rows.append(
            Outcome(
                outcome=str(r["outcome"]),
                value=value,
                request_id=None if pd.isna(request_id) else str(request_id),
                item=None if item is None or pd.isna(item) else int(item),
                patient_key=None if salt is None or ref is None or pd.isna(ref)
                else patient_key(salt, str(ref)),
            )
        )  # fmt: skip
    store = MonitoringStore(args.db)
    matched = store.add_outcomes(rows, args.caller)
    store.close()
    _out(f"{len(rows)} outcomes imported, {matched} matched to monitoring records")
    return 0


def _recalibrate(args: argparse.Namespace) -> int:
    from hepatorisk import tracking
    from hepatorisk.monitoring.challenger import recalibrate_model
    from hepatorisk.monitoring.thresholds import load_thresholds
    from hepatorisk.training.scoring import read_records

    tracking.configure()
    spec = load_thresholds(args.pipeline).recalibration
    result = recalibrate_model(args.model, read_records(args.data), args.outcome, spec, args.out)
    rec, gate = result.recalibration, result.gate
    lines = [
        f"recalibrated {result.lineage['parent']} on {rec.rows} local rows ({rec.events} events; "
        f"{result.lineage['held_out_rows']} more held out for the gate): {rec.method}, log-odds -> "
        f"{rec.intercept:+.3f} + {rec.slope:.3f} x log-odds",
        f"  rule: {rec.rule}",
        f"  challenger: {result.location} (version {result.version or 'n/a'})",
        f"  local gate {'PASSED' if gate.passed else 'FAILED'} (held-out local rows):",
        *(f"    {r}" for r in gate.reasons),
    ]
    if result.location.startswith("models:/"):  # its run holds the report's local evaluation
        lines.append(
            f"  review-board report (evaluated on the {result.lineage['held_out_rows']} held-out "
            f"local rows): hepatorisk report {result.location} --out DIR"
        )
    _out("\n".join(lines))
    return 0
