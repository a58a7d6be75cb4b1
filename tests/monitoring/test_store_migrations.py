"""The monitoring store's schema is made and changed by Alembic migrations, by the machinery the
audit uses, under its own version table (``hepatorisk db upgrade --store monitoring``); opening
the store and ``serve`` refuse any schema but the newest with one message. The two stores can
share one database."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from monitoring_support import entry_model
from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))

from postgres_support import PASSWORD, Postgres, postgres
from service_support import API_TOKEN, SALT

from hepatorisk.assessment import audit_migrations
from hepatorisk.assessment.audit import AuditLog
from hepatorisk.cli import main
from hepatorisk.monitoring import store_migrations
from hepatorisk.monitoring.store import MonitoringRecord, MonitoringSchemaError, MonitoringStore
from hepatorisk.monitoring.store_schema import metadata

__all__ = ["postgres"]  # the session's throwaway PostgreSQL cluster (tests/service)

VERSION = store_migrations.VERSION_TABLE


def _url(tmp_path: Path, name: str = "monitoring.db") -> str:
    return f"sqlite:///{tmp_path / name}"


def _versions(db: Path, table: str = VERSION) -> list[tuple[str]]:
    with sqlite3.connect(db) as con:
        return con.execute(f"SELECT version_num FROM {table}").fetchall()


def _record(request_id: str) -> MonitoringRecord:
    return MonitoringRecord(request_id, 0, None, "liver", "m", "1", {"age": 40}, 0.1, "low")


def test_an_empty_database_gets_the_migrated_tables_equal_to_the_code(tmp_path: Path) -> None:
    MonitoringStore(_url(tmp_path)).close()
    assert _versions(tmp_path / "monitoring.db") == [(store_migrations.SCHEMA.head(),)]
    engine = create_engine(_url(tmp_path))
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION})
        # what the migrations made is what the code writes: no difference, column by column
        assert compare_metadata(context, metadata) == []
    engine.dispose()


def test_db_upgrade_store_monitoring_creates_then_is_idempotent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(tmp_path)
    assert main(["db", "current", "--store", "monitoring", "--url", url]) == 0
    assert "monitoring database sqlite:///" in (out := capsys.readouterr().out)
    assert "schema revision none (newest known: 0001)" in out
    assert main(["db", "upgrade", "--store", "monitoring", "--url", url]) == 0
    assert "schema revision none -> 0001" in capsys.readouterr().out
    assert main(["db", "upgrade", "--store", "monitoring", "--url", url]) == 0
    assert "schema revision 0001 -> 0001" in capsys.readouterr().out
    assert _versions(tmp_path / "monitoring.db") == [("0001",)]
    # the audit is the default store, and this database holds no audit revision
    assert main(["db", "current", "--url", url]) == 0
    assert capsys.readouterr().out.startswith("audit database sqlite:///")


def test_the_url_comes_from_the_monitoring_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HEPATORISK_MONITORING_DB_URL", raising=False)
    env = tmp_path / "service.env"
    env.write_text("")
    assert main(["db", "upgrade", "--store", "monitoring", "--env-file", str(env)]) == 2
    assert "HEPATORISK_MONITORING_DB_URL is not set" in capsys.readouterr().err
    env.write_text(f"HEPATORISK_MONITORING_DB_URL={_url(tmp_path)}\n")
    assert main(["db", "upgrade", "--store", "monitoring", "--env-file", str(env)]) == 0
    assert _versions(tmp_path / "monitoring.db") == [("0001",)]


def test_audit_and_monitoring_share_one_database(tmp_path: Path) -> None:
    url = _url(tmp_path, "shared.db")
    AuditLog(url, SALT).close()
    store = MonitoringStore(url)  # the audit's tables are not mistaken for old monitoring ones
    store.add([_record("a" * 32)])
    store.close()
    assert main(["db", "upgrade", "--url", url]) == 0
    assert main(["db", "upgrade", "--store", "monitoring", "--url", url]) == 0
    db = tmp_path / "shared.db"
    assert _versions(db) == [(store_migrations.SCHEMA.head(),)]
    assert _versions(db, audit_migrations.VERSION_TABLE) == [(audit_migrations.head(),)]
    AuditLog(url, SALT).close()
    assert len(MonitoringStore(url).window(None)) == 1


def test_tables_from_before_migrations_are_refused_then_adopted_with_their_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = _url(tmp_path)
    engine = create_engine(url)
    metadata.create_all(engine)  # what the monitoring store did before migrations
    engine.dispose()
    with sqlite3.connect(tmp_path / "monitoring.db") as con:
        con.execute(
            "INSERT INTO monitoring_outcomes (request_id, item, outcome, value, week, caller) "
            "VALUES ('r1', 0, 'liver', 1, '2026-W49', 'c')"
        )
    with pytest.raises(
        MonitoringSchemaError,
        match=r"monitoring tables carry no schema revision.*db upgrade --store monitoring",
    ):
        MonitoringStore(url)
    assert main(["db", "upgrade", "--store", "monitoring", "--url", url]) == 0
    assert "schema revision none -> 0001" in capsys.readouterr().out
    store = MonitoringStore(url)
    store.add([_record("r1")])
    assert list(store.window(None)["observed"]) == [1.0]  # the adopted outcome row is kept
    store.close()


def test_an_older_known_revision_asks_for_the_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    MonitoringStore(_url(tmp_path)).close()
    schema = type(store_migrations.SCHEMA)
    monkeypatch.setattr(schema, "head", lambda self: "0002")
    monkeypatch.setattr(schema, "known", lambda self: ["0001", "0002"])
    with pytest.raises(
        MonitoringSchemaError,
        match=r"revision 0001, this hepatorisk needs 0002: run `hepatorisk db upgrade --store "
        r"monitoring` \(with the same HEPATORISK_MONITORING_DB_URL\)",
    ):
        MonitoringStore(_url(tmp_path))


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("entry-models")
    out = {}
    for key, outcome in (("liver", "liver_event_12w"), ("relapse", "relapse_12w")):
        folder = entry_model(outcome, f"hepatorisk-{key}").save(root / key)
        facts = {"name": f"hepatorisk-{key}", "version": "3", "alias": "champion"}
        (folder / "registration.json").write_text(json.dumps(facts))
        out[key] = folder
    return out


def test_an_unknown_revision_is_refused_by_the_store_by_db_upgrade_and_by_serve(
    tmp_path: Path,
    model_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = _url(tmp_path)
    MonitoringStore(url).close()
    with sqlite3.connect(tmp_path / "monitoring.db") as con:
        con.execute(f"UPDATE {VERSION} SET version_num = '0099_future'")
    with pytest.raises(MonitoringSchemaError, match=r"'0099_future', which this hepatorisk does"):
        MonitoringStore(url)
    assert main(["db", "upgrade", "--store", "monitoring", "--url", url]) == 2
    assert "does not know" in capsys.readouterr().err
    monkeypatch.setenv("HEPATORISK_IDENTIFIER_SALT", SALT)
    monkeypatch.setenv("HEPATORISK_API_TOKENS", json.dumps([{"caller": "a", "token": API_TOKEN}]))
    monkeypatch.setenv("HEPATORISK_AUDIT_DB_URL", _url(tmp_path, "audit.db"))
    monkeypatch.setenv("HEPATORISK_MONITORING_DB_URL", url)
    code = main(["serve", "--liver-model", str(model_dirs["liver"]),
                 "--relapse-model", str(model_dirs["relapse"])])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2
    [line] = err.strip().splitlines()  # one message, no traceback
    assert line.startswith("hepatorisk: error: monitoring database sqlite:///")
    assert "schema revision '0099_future', which this hepatorisk does not know" in line
    assert "point HEPATORISK_MONITORING_DB_URL at another database" in line


def test_both_stores_upgrade_concurrently_in_one_postgresql_database(postgres: Postgres) -> None:
    """On PostgreSQL each store's upgrade holds its own advisory lock: concurrent ``db upgrade``
    processes (two of the monitoring store, one of the audit) all succeed, each store at its
    newest revision, its tables equal to the code's."""
    import subprocess

    from hepatorisk.assessment.audit_schema import metadata as audit_metadata

    url = postgres.create_database("shared_stores")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "hepatorisk", "db", "upgrade", "--store", store, "--url", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for store in ("monitoring", "audit", "monitoring")
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    assert all("-> 0001" in out and PASSWORD not in out for out in outputs), outputs
    engine = create_engine(url)
    pairs = ((audit_migrations.SCHEMA, audit_metadata), (store_migrations.SCHEMA, metadata))
    for schema, tables in pairs:
        assert schema.current_revision(engine) == schema.head()
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "version_table": schema.version_table,
                    # the other store's tables are not this store's business
                    "include_name": lambda name, kind, _p, t=tables: (
                        kind != "table" or name in t.tables
                    ),
                },
            )
            assert compare_metadata(context, tables) == []
    engine.dispose()
    store = MonitoringStore(url)
    store.add([_record("p" * 32)])
    assert len(store.window(None)) == 1
    store.close()
