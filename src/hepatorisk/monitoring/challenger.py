"""``hepatorisk recalibrate``: split the local rows, fit, gate, and register the challenger.

A registered parent (``models:/NAME@champion``) gets a new version of the same registered model
with the alias ``challenger``, logged as an MLflow pyfunc (the same model-from-code class, so the
service, ``hepatorisk predict`` and ``mlflow models serve`` load it as they load any version),
with its lineage as tags and parameters (parent version and run, the local data's digest, the
rule and fit) and the local gate's decision (``local_gate.json``), which ``hepatorisk promote``
applies to it. The held-out rows' predictions of champion and challenger are logged
(``evaluation/reference_predictions.parquet``) so the change record can count band movements,
and so is the evaluation the review-board report reads (``monitoring.local_evaluation``): on
the held-out local rows the gate judged, parent and recalibrated side by side, stated as such.
A parent given as a folder yields a folder (``--out``) with the same facts.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk import tracking
from hepatorisk.exceptions import ConfigError, DataContractError
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.monitoring.local_evaluation import (
    LOCAL_EVALUATION_FILE,
    LocalEvaluation,
    evaluate_locally,
    parent_plan,
)
from hepatorisk.monitoring.recalibration import (
    GATE_BOOTSTRAP,
    LocalGate,
    Recalibration,
    data_digest,
    fit_recalibration,
    local_gate,
    local_split,
    recalibrated,
)
from hepatorisk.monitoring.thresholds import RecalibrationSpec
from hepatorisk.training.steps.registration import plots, signature_frame

__all__ = ["RECALIBRATED_FROM", "Challenger", "recalibrate_model"]

#: model-version tag naming the parent version of a recalibrated challenger
RECALIBRATED_FROM = "hepatorisk.recalibrated_from"
LOCAL_GATE_FILE = "local_gate.json"


@dataclass(frozen=True)
class Challenger:
    bundle: ModelBundle
    recalibration: Recalibration
    gate: LocalGate
    lineage: dict[str, Any]
    version: str | None
    location: str


def recalibrate_model(
    source: str,
    records: pd.DataFrame,
    outcome: str,
    spec: RecalibrationSpec,
    out: Path | None = None,
) -> Challenger:
    """Recalibrate the model at ``source`` on ``records`` (outcome column ``outcome``)."""
    if outcome not in records.columns:
        raise ConfigError(f"--outcome {outcome!r} is not a column of the data file")
    known = records[outcome].notna().to_numpy()
    records = records[known].reset_index(drop=True)
    y = pd.to_numeric(records[outcome], errors="coerce").to_numpy()
    if not np.isin(y, (0, 1)).all():
        raise DataContractError(f"column {outcome!r} must hold 0/1 outcomes")
    y = y.astype(int)
    parent = tracking.load_versioned_model(source)
    if source.startswith("models:/"):  # the registry's name, whatever the bundle says
        parent = replace(parent, name=source.removeprefix("models:/").split("@")[0].split("/")[0])
    fit_rows, held = local_split(y, spec)
    rec = fit_recalibration(parent.bundle, records.iloc[fit_rows], y[fit_rows], spec)
    lineage: dict[str, Any] = {
        "parent": f"{parent.name}:{parent.version or 'unversioned'}",
        "parent_version": parent.version,
        "parent_run": parent.run_id,
        "local_data_digest": data_digest(records, y),
        "local_rows": len(y),
        "fit_rows": len(fit_rows),
        "held_out_rows": len(held),
        "seed": spec.seed,
    }
    bundle = recalibrated(parent.bundle, rec, lineage, records.iloc[fit_rows])
    p_champion = parent.bundle.predict_proba(records.iloc[held])
    p_challenger = bundle.predict_proba(records.iloc[held])
    gate = local_gate(y[held], p_champion, p_challenger, spec)
    predictions = pd.DataFrame({"champion": p_champion, "challenger": p_challenger})
    if source.startswith("models:/") and parent.version is not None:
        local = evaluate_locally(
            parent.bundle, bundle, records, y, fit_rows, held, outcome,
            parent_plan(parent.run_id), GATE_BOOTSTRAP, spec.seed, lineage,
        )  # fmt: skip
        registered, location = _register(parent, bundle, rec, gate, lineage, predictions, local)
        version: str | None = registered
    else:
        if out is None:
            raise ConfigError(
                f"{source} is not a registered model: give --out FOLDER for the recalibrated one"
            )
        version, location = _to_folder(out, parent.name, bundle, rec, gate, lineage, predictions)
    return Challenger(bundle, rec, gate, lineage, version, location)


def _documents(rec: Recalibration, gate: LocalGate, lineage: dict[str, Any]) -> dict[str, Any]:
    return {
        "recalibration": rec.as_dict(),
        "lineage": lineage,
        "local_gate": asdict(gate),
    }


def _register(
    parent: tracking.VersionedModel,
    bundle: ModelBundle,
    rec: Recalibration,
    gate: LocalGate,
    lineage: dict[str, Any],
    predictions: pd.DataFrame,
    local: LocalEvaluation,
) -> tuple[str, str]:
    tags = {
        RECALIBRATED_FROM: str(parent.version),
        "hepatorisk.local_data_digest": lineage["local_data_digest"],
        "hepatorisk.recalibration": rec.method,
        "hepatorisk.evaluation": local.statement["text"],
    }
    intercept, slope = bundle.model.calibration_
    with tracking.start_run(f"{parent.name}-recalibration", "recalibrate", tags) as run:
        run.params({f"recalibration.{k}": v for k, v in rec.as_dict().items()})
        run.params({f"lineage.{k}": v for k, v in lineage.items()})
        if "outcome" in bundle.metadata:  # the report reads it from the bundle first
            run.params({"outcome": bundle.metadata["outcome"]})
        run.params(
            {
                "evaluation.scope": local.statement["scope"],
                "evaluation.bootstrap": local.statement["bootstrap"],
                "evaluation.seed": local.statement["seed"],
                "calibration_intercept": intercept,
                "calibration_slope": slope,
                "calibration_rows": lineage["fit_rows"],
                "test_rows": lineage["held_out_rows"],
            }
        )
        # the gate's measures and the report's are one computation (same rows, draws and seed)
        run.metrics(
            local.evaluation.metrics | {f"champion_local_{k}": v for k, v in gate.champion.items()}
        )
        docs = _documents(rec, gate, lineage)
        run.json(LOCAL_GATE_FILE, docs["local_gate"] | {"lineage": lineage})
        run.json("recalibration.json", docs)
        run.frame("evaluation/reference_predictions.parquet", predictions)
        _log_local_evaluation(run, local)
        example = signature_frame(local.records[bundle.input_columns].head(5))
        output = pd.DataFrame({"probability": bundle.predict_proba(example)})
        with tempfile.TemporaryDirectory() as tmp:
            bundle_dir = bundle.save(Path(tmp) / "bundle")
            uri = run.model(bundle_dir, example, output)
        version = run.register(uri, parent.name, tags)
    return version, f"models:/{parent.name}/{version}"


def _log_local_evaluation(run: tracking.RunLogger, local: LocalEvaluation) -> None:
    """The artifacts a training run logs for the report, from the held-out local rows."""
    evaluation = local.evaluation
    run.json(LOCAL_EVALUATION_FILE, local.statement)
    run.json("evaluation/metrics.json", evaluation.metrics)
    run.frame("evaluation/test_predictions.parquet", evaluation.predictions)
    run.frame("evaluation/decision_curve.csv", evaluation.decision_curve)
    run.frame("evaluation/calibration_curve.csv", evaluation.calibration_curve)
    run.frame("evaluation/subgroups.csv", evaluation.subgroups)
    run.frame("evaluation/records.parquet", local.records)
    for name, png in plots(evaluation).items():
        run.image(f"plots/{name}.png", png)


def _to_folder(
    out: Path,
    name: str,
    bundle: ModelBundle,
    rec: Recalibration,
    gate: LocalGate,
    lineage: dict[str, Any],
    predictions: pd.DataFrame,
) -> tuple[str | None, str]:
    bundle.save(out)
    version = f"{lineage['parent_version'] or 'unversioned'}+recalibrated"
    facts = {"name": name, "version": version, "alias": "challenger", "run_id": None}
    (out / tracking.REGISTRATION_FILE).write_text(json.dumps(facts))
    (out / "recalibration.json").write_text(
        json.dumps(_documents(rec, gate, lineage), indent=2, default=str)
    )
    predictions.to_parquet(out / "reference_predictions.parquet", index=False)
    return version, str(out)
