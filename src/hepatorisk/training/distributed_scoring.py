"""``predict --scheduler``: score a partitioned Parquet input on Dask, one task per part.

Each task streams its part in batches through ``scoring.score_frame`` (the same function the
single-process command runs) and writes the matching output part, so a worker holds one batch,
not the part, and the numbers equal those of ``predict`` without a cluster. The model is loaded
here once and sent to every worker (the workers need no access to the MLflow registry).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow.parquet as pq

from hepatorisk.contracts.partitioned import part_files, part_name
from hepatorisk.exceptions import DataContractError
from hepatorisk.tracking import VersionedModel, load_versioned_model
from hepatorisk.training.scoring import BATCH_ROWS, iter_records, score_frame, write_scores

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["score_partitioned"]


def score_partitioned(
    model_uri: str,
    source: Path,
    out: Path,
    client: Client,
    explain: bool = False,
    batch_rows: int = BATCH_ROWS,
) -> int:
    """Score every part of ``source`` (a folder of Parquet parts, or one Parquet file) into the
    folder ``out`` (``part-NNNNN.parquet`` for each input part); the number of records."""
    if source.is_file() and source.suffix != ".parquet":
        raise DataContractError(
            f"{source}: --scheduler scores Parquet (a file or a folder of parts); "
            "stream a CSV without --scheduler"
        )
    inputs = part_files(source) if source.is_dir() else [source]
    if out.suffix == ".csv":
        raise DataContractError(f"{out}: --scheduler writes a folder of Parquet parts, not CSV")
    out.mkdir(parents=True, exist_ok=True)
    offsets, first = [], 0
    for path in inputs:  # row numbers run on across parts, as in the single-process command
        offsets.append(first)
        first += pq.ParquetFile(path).metadata.num_rows
    model = load_versioned_model(model_uri)
    [shared] = client.scatter([model], broadcast=True)  # type: ignore[no-untyped-call]
    futures = client.map(
        _score_part,
        [shared] * len(inputs),
        inputs,
        [out / part_name(i) for i in range(len(inputs))],
        offsets,
        explain=explain,
        batch_rows=batch_rows,
        pure=False,
    )
    rows: list[int] = client.gather(futures)  # type: ignore[no-untyped-call]
    return sum(rows)


def _score_part(
    model: VersionedModel, source: Path, out: Path, offset: int, explain: bool, batch_rows: int
) -> int:
    def batches() -> Iterator[pd.DataFrame]:
        for batch in iter_records(source, batch_rows):
            batch.index = batch.index + offset
            yield score_frame(model, batch, explain, str(source))

    return write_scores(batches(), out)
