"""Shared by the scale tests: a small model on the committed sample, and partitioned input.

The model reads the patient record's own columns (no derived features), so that it does not
follow changes to the pipelines' feature definitions; what is tested is that every way of
scoring gives the same numbers, not the model.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.cohorts.synthetic.tables import PATIENTS
from hepatorisk.contracts.partitioned import part_name
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.features import FeatureBuilder

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"
COLUMNS = [c.name for c in PATIENTS.columns if c.name != "patient_id"]

__all__ = ["COLUMNS", "SAMPLE", "build_bundle", "export", "split_into_parts"]


def build_bundle(outcome: str, registered: str, n_estimators: int = 30) -> ModelBundle:
    cohort = load_cohort(SAMPLE)
    known = cohort.outcomes[outcome].notna().to_numpy()  # prevalent patients are not at risk
    records = cohort.patients[known].drop(columns="patient_id").reset_index(drop=True)
    y = cohort.outcomes[outcome][known].to_numpy(dtype=int)
    features = FeatureBuilder(columns=COLUMNS).fit(records)
    X = features.transform(records)
    model = CalibratedBooster(n_estimators=n_estimators, num_leaves=7, random_state=0)
    model.fit(X[:1200], y[:1200], X[1200:], y[1200:])
    metadata = {"registered_model": registered, "outcome": outcome, "horizon_weeks": 12,
                "pipeline": "test"}  # fmt: skip
    return ModelBundle(features, model, metadata, {}, {})


def export(bundle: ModelBundle, folder: Path, version: str) -> Path:
    """An exported model folder, as ``hepatorisk export`` writes it."""
    bundle.save(folder)
    facts = {"name": bundle.metadata["registered_model"], "version": version,
             "alias": "champion", "run_id": f"run-{version}"}  # fmt: skip
    (folder / "registration.json").write_text(json.dumps(facts))
    return folder


def split_into_parts(frame: pd.DataFrame, folder: Path, parts: int) -> Path:
    """Write ``frame`` as ``parts`` Parquet parts (uneven sizes) in ``folder``."""
    folder.mkdir(parents=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    cuts = sorted({len(frame) * (i + 1) // (parts + 1) for i in range(parts - 1)})
    for i, (lo, hi) in enumerate(itertools.pairwise([0, *cuts, len(frame)])):
        pq.write_table(table.slice(lo, hi - lo), folder / part_name(i))
    return folder
