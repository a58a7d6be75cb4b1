"""Read any cohort folder through its contracts: the data catalog of the training pipelines."""

from __future__ import annotations

import importlib
from pathlib import Path

import pandas as pd

from hepatorisk.cohorts.kinds import kind_info
from hepatorisk.cohorts.manifest import CohortManifest, read_manifest
from hepatorisk.contracts import TableSchema, read_table
from hepatorisk.exceptions import DataContractError

__all__ = ["column_labels", "id_column", "modelling_frame", "read_cohort_table"]


def id_column(manifest: CohortManifest) -> str:
    return str(manifest.extra.get("id_column", "patient_id"))


def _schemas(kind: str) -> dict[str, TableSchema]:
    tables: dict[str, TableSchema] = importlib.import_module(kind_info(kind).schema_module).TABLES
    return tables


def read_cohort_table(directory: Path, name: str) -> pd.DataFrame:
    manifest = read_manifest(directory)
    schemas = _schemas(manifest.kind)
    if name not in schemas or name not in manifest.tables:
        raise DataContractError(
            f"{directory}: a {manifest.kind} cohort has no table {name!r}; "
            f"it has {', '.join(manifest.tables)}"
        )
    return read_table(directory / f"{name}.parquet", schemas[name])


def modelling_frame(directory: Path) -> tuple[CohortManifest, pd.DataFrame, list[str]]:
    """One row per patient: the patient-level table joined with its outcomes (same id), and the
    names of the columns that came from the outcomes table (never model inputs)."""
    manifest = read_manifest(directory)
    key = id_column(manifest)
    records = read_cohort_table(directory, manifest.tables[0])
    outcomes = read_cohort_table(directory, "outcomes")
    overlap = [c for c in outcomes.columns if c in records.columns and c != key]
    frame = records.merge(outcomes.drop(columns=overlap), on=key, how="inner", validate="1:1")
    if len(frame) != len(records):
        raise DataContractError(
            f"{directory}: {len(records) - len(frame)} patients have no outcomes row"
        )
    return manifest, frame, [c for c in outcomes.columns if c != key]


def column_labels(manifest: CohortManifest) -> dict[str, str]:
    """Plain-word label of every patient-level column, from its schema (description, unit)."""
    schema = _schemas(manifest.kind)[manifest.tables[0]]
    return {
        c.name: f"{c.description} ({c.unit})" if c.unit else c.description
        for c in schema.columns
        if c.description
    }
