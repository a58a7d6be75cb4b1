"""Batch scoring and export: the registered model applied to a table, or copied to a folder.

Scoring streams: records are read, scored and written ``BATCH_ROWS`` at a time, so memory is
bounded by the batch, not the input; every row is scored on its own, so the numbers do not
depend on the batching (``distributed_scoring`` runs the same functions on Dask workers)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hepatorisk.cohorts.history import HISTORY_COLUMNS, at_entry
from hepatorisk.contracts.partitioned import part_files
from hepatorisk.exceptions import DataContractError, DataSourceError
from hepatorisk.tracking import (
    REGISTRATION_FILE,
    VersionedModel,
    download_model,
    load_versioned_model,
)

__all__ = [
    "BATCH_ROWS",
    "export_model",
    "iter_records",
    "read_records",
    "score_file",
    "score_frame",
    "write_scores",
]

BATCH_ROWS = 5_000  # rows per streamed batch: with explanations about 0.65 GiB peak (10,000: 1 GiB)


def read_records(path: Path) -> pd.DataFrame:
    """A Parquet or CSV table of patient records (a folder of Parquet parts too), all at once."""
    batches = list(iter_records(path, batch_rows=None))
    return batches[0] if len(batches) == 1 else pd.concat(batches)


def iter_records(path: Path, batch_rows: int | None = BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """The records of a Parquet file, a folder of Parquet parts or a CSV file, ``batch_rows``
    at a time (None: all at once), indexed by row number in the whole input so that an error
    names the row; parse errors name the file and line."""
    if batch_rows is not None and batch_rows < 1:
        raise DataContractError(f"batch_rows must be a positive integer, got {batch_rows}")
    if path.is_dir():
        files = part_files(path)
    elif path.is_file():
        files = [path]
    else:
        raise DataSourceError(f"{path}: no such file")
    if path.is_file() and path.suffix not in (".parquet", ".csv"):
        raise DataContractError(f"{path}: expected a .parquet or .csv file")
    offset = 0
    for file in files:
        try:
            batches = _csv_batches(file, batch_rows) if file.suffix == ".csv" else None
            if batches is None:
                batches = _parquet_batches(file, batch_rows)
            for batch in batches:
                batch.index = pd.RangeIndex(offset, offset + len(batch))
                offset += len(batch)
                yield batch
        except (ValueError, OSError, pa.ArrowException) as exc:  # parsers name the line
            raise DataContractError(f"{file}: cannot read the table ({exc})") from None


def _csv_batches(path: Path, batch_rows: int | None) -> Iterator[pd.DataFrame]:
    if batch_rows is None:
        yield pd.read_csv(path)
        return
    with pd.read_csv(path, chunksize=batch_rows) as reader:
        yield from reader


def _parquet_batches(path: Path, batch_rows: int | None) -> Iterator[pd.DataFrame]:
    if batch_rows is None:
        yield pq.read_table(path).to_pandas()
        return
    parquet = pq.ParquetFile(path)
    for batch in parquet.iter_batches(batch_size=batch_rows):
        yield pa.Table.from_batches([batch], schema=parquet.schema_arrow).to_pandas()


def score_frame(
    model: VersionedModel, records: pd.DataFrame, explain: bool = False, source: str = ""
) -> pd.DataFrame:
    """The pyfunc's output for ``records`` (probability; with ``explain``, the base log-odds and
    exact SHAP contributions), beside the record's id and the model's name and version.

    A landmark model's records without any history column are week-0 records: the entry
    history (``cohorts.history.at_entry``) is added, as the service does."""
    records = _with_entry_history(model, records)
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
        where = " (CSV line = row + 2)" if source.endswith(".csv") else ""
        raise DataContractError(f"{source}: {exc}{where}") from None
    for key in ("patient_id", "who", "seqn"):
        if key in records.columns:
            scores.insert(0, key, records[key].to_numpy())
            break
    scores.insert(len(scores.columns), "model", f"{model.name}:{model.version or '?'}")
    return scores


def _with_entry_history(model: VersionedModel, records: pd.DataFrame) -> pd.DataFrame:
    needed = [c for c in HISTORY_COLUMNS if c in model.bundle.input_columns]
    if not needed or any(c in records.columns for c in HISTORY_COLUMNS):
        return records
    entry = pd.DataFrame(at_entry(len(records)), index=records.index)
    return pd.concat([records, entry[needed]], axis=1)


def write_scores(batches: Iterable[pd.DataFrame], out: Path) -> int:
    """Write scored batches to one Parquet or CSV file as they come; the number of rows."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    rows = 0
    writer: pq.ParquetWriter | None = None
    schema: pa.Schema | None = None
    try:
        for batch in batches:
            if out.suffix == ".csv":
                batch.to_csv(tmp, index=False, mode="w" if rows == 0 else "a", header=rows == 0)
            else:
                table = pa.Table.from_pandas(batch, preserve_index=False, schema=schema)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(table)
            rows += len(batch)
    finally:
        if writer is not None:
            writer.close()
    if rows == 0:
        raise DataContractError(f"{out}: the input holds no records; nothing written")
    tmp.replace(out)  # a failed run never leaves a half-written output behind
    return rows


def score_file(
    model_uri: str,
    source: Path,
    out: Path,
    explain: bool = False,
    batch_rows: int | None = BATCH_ROWS,
) -> int:
    """Score ``source`` (Parquet, CSV or a folder of Parquet parts) into ``out``, streaming
    ``batch_rows`` records at a time (None: all at once); the number of records scored."""
    model = load_versioned_model(model_uri)
    return write_scores(
        (
            score_frame(model, batch, explain, str(source))
            for batch in iter_records(source, batch_rows)
        ),
        out,
    )


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
