"""Alembic schema revisions of a hepatorisk database (the audit store, the monitoring store).

One :class:`MigratedSchema` per store: its scripts folder, its own version table (so stores can
share one database), its PostgreSQL advisory-lock key, and the words of its messages (which
store, which setting, which command). The rules are the same for every store:

- ``upgrade`` applies every missing migration in one transaction (on PostgreSQL under the
  store's advisory lock, so concurrent upgrades wait for each other); tables of the baseline
  made before migrations are adopted (stamped, unchanged);
- ``ensure_current`` (the check on opening, hence ``hepatorisk serve``) creates the tables of an
  empty database at the newest revision and refuses, with one message saying what to do, a
  revision this version does not know (a newer hepatorisk migrated it), an older one (run the
  upgrade command), or tables with no revision (created before migrations: the upgrade adopts
  them).

Each scripts folder's ``env.py`` calls :func:`run_migrations`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Alembic logs a line per plugin when first imported; warnings and errors still show
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402
from sqlalchemy import MetaData, inspect, text  # noqa: E402
from sqlalchemy.engine import Connection, Engine  # noqa: E402

from hepatorisk.exceptions import HepatoriskError  # noqa: E402

__all__ = ["MigratedSchema", "SchemaError", "run_migrations"]

log = logging.getLogger(__name__)


class SchemaError(HepatoriskError):
    """A store's schema is not the one this version writes; the message says what to do."""


@dataclass(frozen=True)
class MigratedSchema:
    """A store whose tables only its Alembic migrations create and change."""

    store: str  # "audit", "monitoring": the words of every message
    scripts: Path  # the folder with env.py and versions/
    version_table: str  # its own, not alembic_version: the database may be shared
    lock_key: int  # pg_advisory_xact_lock key of its upgrades
    metadata: MetaData  # the tables as the code reads and writes them
    setting: str  # the URL's variable, named in the messages
    upgrade_command: str  # the command that migrates it, named in the messages
    error: type[HepatoriskError] = SchemaError
    baseline: str = "0001"  # the tables as create_all made them before migrations existed
    # refuses tables from before the baseline (not adoptable), with the way out
    refuse_legacy: Callable[[Connection], None] | None = field(default=None, compare=False)

    def _config(self, connection: Connection | None = None) -> Config:
        config = Config()
        config.set_main_option("script_location", str(self.scripts))
        config.attributes["connection"] = connection
        config.attributes["schema"] = self
        return config

    def _scripts(self) -> ScriptDirectory:
        return ScriptDirectory.from_config(self._config())

    def head(self) -> str:
        """The newest revision this version knows."""
        found = self._scripts().get_current_head()
        assert found is not None, f"no migration in {self.scripts}"
        return found

    def known(self) -> list[str]:
        """Every revision this version knows, oldest first."""
        return [s.revision for s in reversed(list(self._scripts().walk_revisions()))]

    def current_revision(self, engine: Engine) -> str | None:
        """The database's revision, or None when it has none (empty, or tables from before)."""
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": self.version_table})
            return context.get_current_revision()

    def upgrade(self, engine: Engine) -> tuple[str | None, str]:
        """Apply every missing migration; (revision before, revision after)."""
        before = self.current_revision(engine)
        self._refuse_unknown(before)
        with engine.begin() as conn:
            config = self._config(conn)
            if before is None and self._has_tables(conn):
                self._refuse_legacy(conn)
                command.stamp(config, self.baseline)
                log.info(
                    "%s tables from before migrations adopted at revision %s",
                    self.store,
                    self.baseline,
                )
            command.upgrade(config, "head")
        return before, self.head()

    def ensure_current(self, engine: Engine) -> None:
        """The check on opening: an empty database gets the tables at the newest revision; any
        schema but the newest is refused (``self.error``, one message naming the way out)."""
        revision = self.current_revision(engine)
        if revision == self.head():
            return
        self._refuse_unknown(revision)
        if revision is None:
            with engine.connect() as conn:
                if self._has_tables(conn):
                    self._refuse_legacy(conn)
                    raise self.error(
                        f"the {self.store} tables carry no schema revision (created before "
                        f"migrations); adopt them once with `{self.upgrade_command}` (they are "
                        "not changed)"
                    )
            self.upgrade(engine)
            log.info(
                "empty %s database: tables created at schema revision %s", self.store, self.head()
            )
            return
        raise self.error(
            f"the {self.store} database is at schema revision {revision}, this hepatorisk needs "
            f"{self.head()}: run `{self.upgrade_command}` (with the same {self.setting})"
        )

    def _refuse_unknown(self, revision: str | None) -> None:
        if revision is not None and revision not in self.known():
            raise self.error(
                f"the {self.store} database is at schema revision {revision!r}, which this "
                f"hepatorisk does not know (its newest is {self.head()}): a newer hepatorisk "
                f"migrated it; run that version, or point {self.setting} at another database"
            )

    def _has_tables(self, conn: Connection) -> bool:
        tables = inspect(conn)
        return any(tables.has_table(name) for name in self.metadata.tables)

    def _refuse_legacy(self, conn: Connection) -> None:
        if self.refuse_legacy is not None:
            self.refuse_legacy(conn)


def run_migrations(context: Any) -> None:
    """The body of every scripts folder's ``env.py``: run on the connection handed in by
    :class:`MigratedSchema` (``config.attributes``), inside its transaction."""
    schema: MigratedSchema = context.config.attributes["schema"]
    connection: Connection = context.config.attributes["connection"]
    if connection.dialect.name == "postgresql":
        # two processes upgrading at once (workers, replicas) wait for each other, not race
        connection.execute(text(f"SELECT pg_advisory_xact_lock({int(schema.lock_key)})"))
    context.configure(
        connection=connection,
        target_metadata=schema.metadata,
        version_table=schema.version_table,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
