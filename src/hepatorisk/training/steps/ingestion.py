"""Step ``ingest``: the pipeline's cohort as one row per patient, with its outcome."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from hepatorisk.cohorts.catalog import id_column, modelling_frame
from hepatorisk.cohorts.manifest import CohortManifest
from hepatorisk.exceptions import ConfigError, DataContractError
from hepatorisk.training.landmark_data import landmark_rows
from hepatorisk.training.spec import PipelineSpec

__all__ = ["Dataset", "ingest"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Dataset:
    """One row per patient: the record, the outcome and (synthetic cohorts) the true risk."""

    manifest: CohortManifest
    frame: pd.DataFrame
    id_column: str
    y: np.ndarray
    oracle: np.ndarray | None
    source: Path
    digest: str
    outcome_columns: frozenset[str]
    landmark: np.ndarray | None = None  # landmark pipelines: each row's landmark week


def ingest(spec: PipelineSpec, root: Path) -> Dataset:
    """Load the cohort named by the pipeline (making it first if its folder is absent)."""
    folder = (root / spec.cohort.path).resolve()
    if not (folder / "cohort.json").is_file():
        _make_cohort(spec, folder)
    manifest, frame, outcome_columns = modelling_frame(folder)
    if manifest.kind != spec.cohort.kind:
        raise ConfigError(
            f"{folder} holds a {manifest.kind} cohort, the pipeline expects {spec.cohort.kind}"
        )
    if spec.outcome not in frame.columns:
        raise ConfigError(
            f"outcome {spec.outcome!r} is not in {folder}; it has {', '.join(manifest.outcomes)}"
        )
    if spec.landmarks is not None:
        return _landmark_dataset(spec, manifest, frame, folder, outcome_columns)
    known = frame[spec.outcome].notna().to_numpy()
    if not known.all():
        log.info("dropping %d patients with unknown %s", int((~known).sum()), spec.outcome)
        frame = frame[known].reset_index(drop=True)
    oracle = None
    if spec.oracle is not None:
        oracle = frame[spec.oracle].to_numpy(dtype=float)
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    ).hexdigest()
    return Dataset(
        manifest,
        frame,
        id_column(manifest),
        frame[spec.outcome].to_numpy(dtype=int),
        oracle,
        folder,
        digest[:16],
        frozenset(outcome_columns),
    )


def _landmark_dataset(
    spec: PipelineSpec,
    manifest: CohortManifest,
    frame: pd.DataFrame,
    folder: Path,
    outcome_columns: list[str],
) -> Dataset:
    """One row per patient per landmark at risk (``training.landmark_data``)."""
    if manifest.kind != "synthetic":
        raise ConfigError(
            f"landmarks: need a visits table (synthetic cohorts); {folder} is {manifest.kind}"
        )
    rows = landmark_rows(frame, folder, id_column(manifest), spec)
    digest = hashlib.sha256(
        pd.util.hash_pandas_object(rows.frame, index=False).to_numpy().tobytes()
    ).hexdigest()
    return Dataset(
        manifest,
        rows.frame,
        id_column(manifest),
        rows.y,
        rows.oracle,
        folder,
        digest[:16],
        frozenset(outcome_columns) | rows.label_columns,
        rows.landmark,
    )


def _make_cohort(spec: PipelineSpec, folder: Path) -> None:
    if spec.cohort.kind == "synthetic" and spec.cohort.generate:
        from hepatorisk.cohorts.synthetic import generate_cohort, load_generator_config

        gen = spec.cohort.generate
        log.info("generating the synthetic cohort into %s", folder)
        config = load_generator_config(scenario=gen.scenario)
        generate_cohort(gen.patients, seed=gen.seed, config=config).write(folder)
    elif spec.cohort.kind != "synthetic" and spec.cohort.build_if_missing:
        from hepatorisk.cohorts.public import build_public_cohort

        log.info("building the %s cohort into %s", spec.cohort.kind, folder)
        build_public_cohort(spec.cohort.kind, folder)
    else:
        raise DataContractError(f"{folder}: no cohort there, and the pipeline may not make one")
