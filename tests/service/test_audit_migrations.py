"""The audit schema is made and changed by Alembic migrations (``hepatorisk db upgrade``); the
service refuses, with one message, any schema but the newest it knows.

(On PostgreSQL: tests/integration/test_stack.py runs ``db upgrade`` as the compose file does.)"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from service_support import API_TOKEN, SALT
from sqlalchemy import create_engine

from hepatorisk.assessment import audit_migrations
from hepatorisk.assessment.audit import AuditEntry, AuditLog, AuditSchemaError, metadata
from hepatorisk.cli import main


def _url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.db'}"


def _revision(tmp_path: Path) -> list[tuple[str]]:
    with sqlite3.connect(tmp_path / "audit.db") as con:
        return con.execute(f"SELECT version_num FROM {audit_migrations.VERSION_TABLE}").fetchall()


def test_an_empty_database_gets_the_migrated_tables_equal_to_the_code(tmp_path):
    AuditLog(_url(tmp_path), SALT).close()
    assert _revision(tmp_path) == [(audit_migrations.head(),)]
    engine = create_engine(_url(tmp_path))
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": audit_migrations.VERSION_TABLE}
        )
        # what the migrations made is what the code writes: no difference, column by column
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_db_upgrade_creates_then_is_idempotent(tmp_path, capsys):
    assert main(["db", "current", "--url", _url(tmp_path)]) == 0
    assert "schema revision none (newest known: 0001)" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", _url(tmp_path)]) == 0
    assert "schema revision none -> 0001" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", _url(tmp_path)]) == 0
    assert "schema revision 0001 -> 0001" in capsys.readouterr().out
    assert _revision(tmp_path) == [("0001",)]


def test_tables_from_before_migrations_are_refused_then_adopted_with_their_rows(tmp_path, capsys):
    engine = create_engine(_url(tmp_path))
    metadata.create_all(engine)  # what hepatorisk did before migrations
    engine.dispose()
    with pytest.raises(AuditSchemaError, match=r"no schema revision.*hepatorisk db upgrade"):
        AuditLog(_url(tmp_path), SALT)
    with sqlite3.connect(tmp_path / "audit.db") as con:
        con.execute(
            "INSERT INTO assessments VALUES ('r1', 0, '2026-01-01 00:00:00', 'x', 'c', '{}', "
            "'h', NULL, 'k', '{}', '{}')"
        )
    assert main(["db", "upgrade", "--url", _url(tmp_path)]) == 0
    assert "schema revision none -> 0001" in capsys.readouterr().out
    log = AuditLog(_url(tmp_path), SALT)
    log.record("r2", "/v1/assess", "c", {}, [AuditEntry(0, "h2", None, {}, {})])
    assert [r["request_id"] for r in log.rows()] == ["r1", "r2"]
    log.close()


def test_an_unknown_revision_is_refused_by_the_log_by_db_upgrade_and_by_serve(
    tmp_path, model_dirs, capsys, monkeypatch
):
    AuditLog(_url(tmp_path), SALT).close()
    with sqlite3.connect(tmp_path / "audit.db") as con:
        con.execute(f"UPDATE {audit_migrations.VERSION_TABLE} SET version_num = '0099_future'")
    with pytest.raises(AuditSchemaError, match=r"'0099_future', which this hepatorisk does not"):
        AuditLog(_url(tmp_path), SALT)
    assert main(["db", "upgrade", "--url", _url(tmp_path)]) == 2
    assert "does not know" in capsys.readouterr().err
    monkeypatch.setenv("HEPATORISK_IDENTIFIER_SALT", SALT)
    monkeypatch.setenv("HEPATORISK_API_TOKENS", json.dumps([{"caller": "a", "token": API_TOKEN}]))
    monkeypatch.setenv("HEPATORISK_AUDIT_DB_URL", _url(tmp_path))
    code = main(["serve", "--liver-model", str(model_dirs["liver"]),
                 "--relapse-model", str(model_dirs["relapse"])])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    [line] = err.strip().splitlines()  # one message, no traceback
    assert line.startswith("hepatorisk: error: audit database sqlite:///")
    assert "schema revision '0099_future', which this hepatorisk does not know" in line


def test_an_older_known_revision_asks_for_db_upgrade(tmp_path, monkeypatch):
    AuditLog(_url(tmp_path), SALT).close()
    # a version with two revisions, the database at the first: the log names the way out
    schema = type(audit_migrations.SCHEMA)  # the machinery every store shares
    monkeypatch.setattr(schema, "head", lambda self: "0002")
    monkeypatch.setattr(schema, "known", lambda self: ["0001", "0002"])
    with pytest.raises(AuditSchemaError, match=r"revision 0001, this hepatorisk needs 0002: run"):
        AuditLog(_url(tmp_path), SALT)
