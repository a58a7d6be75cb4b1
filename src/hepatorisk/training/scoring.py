"""Batch scoring and export: the registered model applied to a table, or copied to a folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from hepatorisk.exceptions import DataContractError, DataSourceError
from hepatorisk.tracking import REGISTRATION_FILE, download_model, load_versioned_model

__all__ = ["export_model", "read_records", "score_file"]


def read_records(path: Path) -> pd.DataFrame:
    """A Parquet or CSV table of patient records; parse errors name the file and line."""
    if not path.is_file():
        raise DataSourceError(f"{path}: no such file")
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        if path.suffix == ".csv":
            return pd.read_csv(path)
    except (ValueError, OSError) as exc:  # pandas' parser errors name the line
        raise DataContractError(f"{path}: cannot read the table ({exc})") from None
    raise DataContractError(f"{path}: expected a .parquet or .csv file")


def score_file(model_uri: str, source: Path, out: Path, explain: bool = False) -> pd.DataFrame:
    model = load_versioned_model(model_uri)
    records = read_records(source)
    try:
        if explain:
            explanation = model.bundle.explain(records)
            scores = explanation.contributions.add_prefix("shap_")
            scores.insert(0, "base_log_odds", explanation.base_value)
            scores.insert(0, "probability", explanation.probability)
        else:
            scores = pd.DataFrame(
                {"probability": model.bundle.predict_proba(records)}, index=records.index
            )
    except DataContractError as exc:
        where = " (CSV line = row + 2)" if source.suffix == ".csv" else ""
        raise DataContractError(f"{source}: {exc}{where}") from None
    for key in ("patient_id", "who", "seqn"):
        if key in records.columns:
            scores.insert(0, key, records[key].to_numpy())
            break
    scores.insert(len(scores.columns), "model", f"{model.name}:{model.version or '?'}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        scores.to_csv(out, index=False)
    else:
        scores.to_parquet(out, index=False)
    return scores


def export_model(model_uri: str, out: Path) -> Path:
    """Copy a registered model into a self-contained folder the service loads without MLflow."""
    loaded = load_versioned_model(model_uri)  # fails early, clearly, if the URI is wrong
    if out.exists():
        shutil.rmtree(out)
    download_model(model_uri, out)
    (out / REGISTRATION_FILE).write_text(
        json.dumps(
            {
                "name": loaded.name,
                "version": loaded.version,
                "alias": loaded.alias,
                "run_id": loaded.run_id,
                "source": model_uri,
            },
            indent=2,
        )
        + "\n"
    )
    return out
