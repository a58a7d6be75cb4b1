"""The one exception hierarchy of hepatorisk.

    HepatoriskError                 every error the project raises on purpose
    ├── ConfigError                 a configuration file or value is wrong (names file, line, key)
    ├── DataContractError           a table breaks its schema (names table, column, rows)
    └── DataSourceError             an input file is missing or unreadable (names the path)

The CLI turns any ``HepatoriskError`` into a one-paragraph message and exit code 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["ConfigError", "DataContractError", "DataSourceError", "HepatoriskError"]


class HepatoriskError(Exception):
    """Base class: an error whose message is written for the user, not the developer."""


class ConfigError(HepatoriskError, ValueError):
    """A configuration file or value is invalid."""


class DataContractError(HepatoriskError, ValueError):
    """A table does not satisfy its schema."""


class DataSourceError(HepatoriskError, OSError):
    """An input file or folder is missing or cannot be read."""
