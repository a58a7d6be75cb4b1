"""Reading and writing contract-checked Parquet tables: the only way tables touch disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from hepatorisk.contracts.partitioned import Part, part_name, read_parts, sha256_file
from hepatorisk.contracts.schema import TableSchema
from hepatorisk.exceptions import DataContractError, DataSourceError

__all__ = ["iter_table", "read_table", "write_part", "write_table"]


def write_table(frame: pd.DataFrame, schema: TableSchema, path: Path) -> Path:
    """Validate ``frame`` and write it as Parquet; an invalid table writes nothing."""
    checked = schema.validate(frame, source=f"{schema.name} (about to be written to {path})")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    checked.to_parquet(tmp, index=False)
    tmp.replace(path)  # atomic on POSIX: a crash never leaves a half-written table
    return path


def write_part(frame: pd.DataFrame, schema: TableSchema, folder: Path, index: int) -> Part:
    """Write part ``index`` of a partitioned table (folder ``NAME.parquet/``) through its
    contract, and say what was written (rows, digest) for the manifest."""
    path = write_table(frame, schema, folder / part_name(index))
    return Part(path.name, len(frame), sha256_file(path))


def read_table(path: Path, schema: TableSchema) -> pd.DataFrame:
    """Load a Parquet table (one file, or a folder of parts in order) and enforce its schema;
    refuse unreadable or non-conforming files."""
    if path.is_dir():
        frame = pa.concat_tables(read_parts(path)).to_pandas()
        return schema.validate(frame, source=str(path))
    if not path.is_file():
        raise DataSourceError(
            f"{path}: table {schema.name!r} not found "
            "(expected a Parquet file or a folder of parts)"
        )
    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise DataContractError(f"{path}: not a readable Parquet file ({exc})") from None
    return schema.validate(frame, source=str(path))


def iter_table(path: Path, schema: TableSchema) -> Iterator[pd.DataFrame]:
    """The table one part at a time (a single file is one part), each through the contract:
    for per-partition aggregates that never hold the whole table."""
    if not path.is_dir():
        yield read_table(path, schema)
        return
    for table in read_parts(path):
        yield schema.validate(table.to_pandas(), source=str(path))
