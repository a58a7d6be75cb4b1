"""The change record of a promotion (FDA's predetermined change control plan asks what may
change, how it is validated and its impact): what changed between the champion before and the
new champion (data, code, parameters, recalibration), the acceptance criteria with the measured
results, how many patients of a reference set would move risk band, who promoted and when.

Stored with the new version, in its run (``governance/change_record.json``); the review-board
report of that version shows it.
"""

from __future__ import annotations

import getpass
import json
import os
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hepatorisk import tracking
from hepatorisk.clinical.monitoring import load_policy, risk_band
from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.monitoring.report import policy_outcome

__all__ = ["CHANGE_RECORD", "PROMOTED_BY_VARIABLE", "band_movements", "build", "read", "store"]

CHANGE_RECORD = "governance/change_record.json"
#: who promoted, when the operating-system user is not the accountable person
PROMOTED_BY_VARIABLE = "HEPATORISK_PROMOTED_BY"
_RESULT_METRICS = ("test_auroc", "test_cal_slope", "test_cal_intercept", "test_brier")


def band_movements(
    bundle: ModelBundle, before: pd.Series | Any, after: pd.Series | Any
) -> dict[str, Any]:
    """How many reference patients change risk band between two sets of probabilities."""
    cuts = load_policy().bands[policy_outcome(bundle)]
    b = [risk_band(float(p), cuts) for p in before]
    a = [risk_band(float(p), cuts) for p in after]
    moves = Counter(f"{x} -> {y}" for x, y in zip(b, a, strict=True) if x != y)
    return {
        "patients": len(b),
        "moved": sum(moves.values()),
        "moves": dict(sorted(moves.items())),
        "bands_before": dict(Counter(b)),
        "bands_after": dict(Counter(a)),
    }


def _reference_set(
    run_id: str, champion: ModelBundle | None, challenger: ModelBundle
) -> dict[str, Any]:
    """Band movements on the challenger's reference set: a recalibration's held-out local
    predictions, else the test rows of the challenger's training run scored by both models."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = tracking.download_run_artifact(
                run_id, "evaluation/reference_predictions.parquet", Path(tmp)
            )
            frame = pd.read_parquet(path)
            out = band_movements(challenger, frame["champion"], frame["challenger"])
            return out | {"reference": "held-out local rows of the recalibration"}
        except DataSourceError:
            pass
        if champion is None:
            return {"reference": "none: no champion before (first version)"}
        try:
            path = tracking.download_run_artifact(run_id, "evaluation/records.parquet", Path(tmp))
        except DataSourceError:
            return {"reference": "none: the challenger's run holds no reference rows"}
        records = pd.read_parquet(path)
    test = records[records["split"] == "test"] if "split" in records else records
    out = band_movements(challenger, champion.predict_proba(test), challenger.predict_proba(test))
    return out | {"reference": "test rows of the challenger's training run"}


def _params_diff(before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    keys = sorted(set(before) | set(after))
    return {
        k: {"before": before.get(k), "after": after.get(k)}
        for k in keys
        if before.get(k) != after.get(k) and not k.startswith(("code.", "lineage."))
    }


def build(
    name: str, challenger_version: str, champion_version: str | None, reasons: list[str]
) -> dict[str, Any]:
    """The change record of promoting ``challenger_version`` over ``champion_version``."""
    new = tracking.load_versioned_model(f"models:/{name}/{challenger_version}")
    old = (
        tracking.load_versioned_model(f"models:/{name}/{champion_version}")
        if champion_version
        else None
    )
    new_run = tracking.run_record(new.run_id) if new.run_id else None
    old_run = tracking.run_record(old.run_id) if old and old.run_id else None
    meta, old_meta = new.bundle.metadata, old.bundle.metadata if old else {}
    recalibrations = meta.get("recalibrations", [])
    is_recalibration = len(recalibrations) > len(old_meta.get("recalibrations", []))
    new_params = new_run.params if new_run else {}
    old_params = old_run.params if old_run else {}
    record: dict[str, Any] = {
        "model": name,
        "from_version": champion_version,
        "to_version": challenger_version,
        "promoted_by": os.environ.get(PROMOTED_BY_VARIABLE) or getpass.getuser(),
        "promoted_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "changed": {
            "kind": "recalibration"
            if is_recalibration
            else ("retraining" if old is not None else "first version"),
            "data": {
                "before": old_meta.get("dataset_digest"),
                "after": meta.get("dataset_digest"),
                "local_data": recalibrations[-1].get("local_data_digest")
                if is_recalibration
                else None,
            },
            "code": {
                "before": old_params.get("code.git_commit"),
                "after": new_params.get("code.git_commit", "same booster as the parent")
                if is_recalibration
                else new_params.get("code.git_commit"),
                "dirty_after": new_params.get("code.git_dirty"),
            },
            # a first version changes no champion's parameters: its own are in its run
            "parameters": _params_diff(old_params, new_params)
            if old_run is not None and not is_recalibration
            else {},
            "recalibration": recalibrations[-1] if is_recalibration else None,
        },
        "acceptance": {"criteria_and_results": list(reasons)},
        "results": {
            k: new_run.metrics.get(k) for k in _RESULT_METRICS if new_run and k in new_run.metrics
        },
    }
    if new.run_id:
        record["band_movement"] = _reference_set(
            new.run_id, old.bundle if old else None, new.bundle
        )
    return record


def store(record: dict[str, Any], run_id: str) -> None:
    """Log the record to the new version's run (``governance/change_record.json``)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(CHANGE_RECORD).name
        path.write_text(json.dumps(record, indent=2, default=str))
        tracking.log_run_files(run_id, [path], str(Path(CHANGE_RECORD).parent))


def read(run_id: str | None) -> dict[str, Any] | None:
    """The change record stored with a version's run, or None (never promoted since records
    were kept, or not a registered run)."""
    if not run_id:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = tracking.download_run_artifact(run_id, CHANGE_RECORD, Path(tmp))
        except DataSourceError:
            return None
        record: dict[str, Any] = json.loads(path.read_text())
    return record
