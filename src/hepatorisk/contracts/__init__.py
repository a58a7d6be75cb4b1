"""Data contracts: the schema of every table hepatorisk writes or reads."""

from hepatorisk.contracts.io import iter_table, read_table, write_part, write_table
from hepatorisk.contracts.schema import Column, TableSchema

__all__ = ["Column", "TableSchema", "iter_table", "read_table", "write_part", "write_table"]
