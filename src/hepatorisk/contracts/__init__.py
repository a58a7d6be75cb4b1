"""Data contracts: the schema of every table hepatorisk writes or reads."""

from hepatorisk.contracts.io import read_table, write_table
from hepatorisk.contracts.schema import Column, TableSchema

__all__ = ["Column", "TableSchema", "read_table", "write_table"]
