"""Partitioned tables: a folder ``NAME.parquet/`` of ``part-NNNNN.parquet`` files, in order.

The folder takes the place of the single file ``NAME.parquet`` (the layout Dask, Spark and
pyarrow read as one dataset), so every reader that asks ``read_table`` for ``NAME.parquet`` gets
the whole table either way; ``iter_table`` hands it over one part at a time, for aggregates that
need not hold the table in one process. Each part is written through the table's contract, and
its row count and SHA-256 go into the cohort manifest so a copy can be checked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from hepatorisk.exceptions import DataContractError, DataSourceError

__all__ = ["Part", "part_files", "part_name", "read_parts", "sha256_file"]

PART_GLOB = "part-*.parquet"


@dataclass(frozen=True)
class Part:
    """One written part: its file name inside the table folder, rows and content digest."""

    file: str
    rows: int
    sha256: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def part_name(index: int) -> str:
    """``part-00003.parquet``: zero-padded so that name order is write order."""
    return f"part-{index:05d}.parquet"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def part_files(folder: Path) -> list[Path]:
    """The parts of a partitioned table, in order; an empty folder is refused by name."""
    if not folder.is_dir():
        raise DataSourceError(f"{folder}: not a partitioned table folder")
    parts = sorted(folder.glob(PART_GLOB))
    if not parts:
        raise DataSourceError(f"{folder}: a table folder with no {PART_GLOB} files")
    return parts


def read_parts(folder: Path) -> Iterator[pa.Table]:
    """Each part of ``folder`` as an Arrow table, in order; unreadable parts are named."""
    for path in part_files(folder):
        try:
            yield pq.read_table(path)
        except (pa.ArrowException, OSError) as exc:
            raise DataContractError(f"{path}: not a readable Parquet file ({exc})") from None
