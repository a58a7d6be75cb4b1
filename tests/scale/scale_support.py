"""Shared by the scale tests: a small model exported to a folder (the service tests' builder)."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
import itertools

from service_support import SAMPLE, build_bundle, export

from hepatorisk.contracts.partitioned import part_name

__all__ = ["SAMPLE", "build_bundle", "export", "split_into_parts"]


def split_into_parts(frame: pd.DataFrame, folder: Path, parts: int) -> Path:
    """Write ``frame`` as ``parts`` Parquet parts (uneven sizes) in ``folder``."""
    folder.mkdir(parents=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    bounds = [
        0,
        *sorted({len(frame) * (i + 1) // (parts + 1) for i in range(parts - 1)}),
        len(frame),
    ]
    for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
        pq.write_table(table.slice(lo, hi - lo), folder / part_name(i))
    return folder
