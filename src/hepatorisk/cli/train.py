"""``hepatorisk train | promote | predict | export``: the model life cycle."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _out(text: str) -> None:
    """Command output goes to stdout; logs and progress go to stderr."""
    sys.stdout.write(text + "\n")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    train = sub.add_parser("train", help="run a training pipeline (tracked in MLflow)")
    train.add_argument("pipeline", type=Path, help="pipelines/NAME.yaml")
    train.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a pipeline key, e.g. split.seed=11",
    )
    train.set_defaults(handler=_train)

    promote = sub.add_parser(
        "promote", help="move 'champion' to the challenger if it passes the quality gate"
    )
    promote.add_argument("name", help="registered model, e.g. hepatorisk-liver")
    promote.set_defaults(handler=_promote)

    predict = sub.add_parser("predict", help="score a Parquet/CSV table of patient records")
    predict.add_argument("model_uri", help="models:/NAME@champion, or an exported folder")
    predict.add_argument("--input", type=Path, required=True)
    predict.add_argument("--out", type=Path, required=True)
    predict.add_argument("--explain", action="store_true", help="add exact SHAP contributions")
    predict.add_argument(
        "--batch-rows",
        type=int,
        default=None,
        help="records read, scored and written at a time (default 5000; bounds memory)",
    )
    predict.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS|local",
        help="score a Parquet file or folder of parts on Dask, one task per part, into a folder "
        "of parts at --out: 'local' starts a LocalCluster, an address uses a running scheduler",
    )
    predict.add_argument(
        "--workers", type=int, default=None, help="LocalCluster workers (default 2)"
    )
    predict.set_defaults(handler=_predict)

    export = sub.add_parser("export", help="write a self-contained model folder")
    export.add_argument("model_uri")
    export.add_argument("--out", type=Path, required=True)
    export.set_defaults(handler=_export)


def _train(args: argparse.Namespace) -> int:
    from hepatorisk.training.runner import run_pipeline

    result = run_pipeline(args.pipeline, args.overrides)
    m = result.metrics
    lines = [
        f"{result.registered_model} version {result.version} registered as challenger "
        f"(run {result.run_id})",
        f"  test AUROC {m['test_auroc']:.3f} [{m['test_auroc_lo']:.3f}, {m['test_auroc_hi']:.3f}]"
        f"  Brier {m['test_brier']:.4f}  calibration slope {m['test_cal_slope']:.2f}"
        f"  intercept {m['test_cal_intercept']:.2f}",
    ]
    if "auroc_vs_oracle" in m:
        lines.append(
            f"  oracle AUROC {m['oracle_auroc']:.3f}; model / oracle "
            f"{m['auroc_vs_oracle']:.3f} [{m['auroc_vs_oracle_lo']:.3f}, "
            f"{m['auroc_vs_oracle_hi']:.3f}]"
        )
    lines.append("  steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in result.step_seconds.items()))
    _out("\n".join(lines))
    return 0


def _promote(args: argparse.Namespace) -> int:
    from hepatorisk import tracking
    from hepatorisk.monitoring.promotion import promote  # the gate, then the change record

    tracking.configure()
    decision, challenger, champion = promote(args.name)
    verdict = "promoted to champion" if decision.passed else "NOT promoted"
    _out(f"{args.name} version {challenger}: {verdict} (champion before: {champion or 'none'})")
    for reason in decision.reasons:
        _out(f"  {reason}")
    return 0 if decision.passed else 1


def _predict(args: argparse.Namespace) -> int:
    from hepatorisk import tracking
    from hepatorisk.exceptions import ConfigError
    from hepatorisk.training.scoring import BATCH_ROWS, score_file

    batch_rows = BATCH_ROWS if args.batch_rows is None else args.batch_rows
    if batch_rows < 1:
        raise ConfigError(f"--batch-rows must be a positive integer, got {batch_rows}")
    tracking.configure()
    if args.scheduler is None:
        if args.workers is not None:
            raise ConfigError("--workers needs --scheduler local")
        rows = score_file(
            args.model_uri, args.input, args.out, explain=args.explain, batch_rows=batch_rows
        )
    else:
        from hepatorisk.cluster import dask_client
        from hepatorisk.training.distributed_scoring import score_partitioned

        with dask_client(args.scheduler, args.workers) as client:
            rows = score_partitioned(
                args.model_uri, args.input, args.out, client, args.explain, batch_rows
            )
    _out(f"scored {rows:,} records -> {args.out}")
    return 0


def _export(args: argparse.Namespace) -> int:
    from hepatorisk import tracking
    from hepatorisk.training.scoring import export_model

    tracking.configure()
    _out(f"exported {args.model_uri} -> {export_model(args.model_uri, args.out)}")
    return 0
