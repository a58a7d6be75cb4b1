"""Reading and writing contract-checked Parquet tables: the only way tables touch disk."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hepatorisk.contracts.schema import TableSchema
from hepatorisk.exceptions import DataContractError, DataSourceError

__all__ = ["read_table", "write_table"]


def write_table(frame: pd.DataFrame, schema: TableSchema, path: Path) -> Path:
    """Validate ``frame`` and write it as Parquet; an invalid table writes nothing."""
    checked = schema.validate(frame, source=f"{schema.name} (about to be written to {path})")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    checked.to_parquet(tmp, index=False)
    tmp.replace(path)  # atomic on POSIX: a crash never leaves a half-written table
    return path


def read_table(path: Path, schema: TableSchema) -> pd.DataFrame:
    """Load a Parquet table and enforce its schema; refuse unreadable or non-conforming files."""
    if not path.is_file():
        raise DataSourceError(f"{path}: table {schema.name!r} not found (expected a Parquet file)")
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataContractError(f"{path}: not a readable Parquet file ({exc})") from None
    return schema.validate(frame, source=str(path))
