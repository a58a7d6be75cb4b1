"""The audit trail: who asked what, which models answered, what they said.

One row per assessed patient, written and committed before the response leaves, so no
acknowledged assessment can be lost by a crash. Rows go through one writer thread that commits
whatever is waiting in one transaction (group commit): a caller returns only after the commit
that holds its rows, and under concurrent load many requests share one fsync. The input is
stored only as the SHA-256 of its canonical JSON and the caller's patient reference only as a
keyed hash (HMAC-SHA-256): the audit proves what was assessed without holding patient data.
SQLite by default (WAL, synchronous FULL), any SQLAlchemy URL in production (PostgreSQL).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Connection, Engine, make_url

__all__ = ["AuditEntry", "AuditLog", "FeedbackEntry", "canonical_sha256"]

metadata = MetaData()
assessments = Table(
    "assessments",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("item", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("caller", String(100), nullable=False),
    Column("models", JSON, nullable=False),
    Column("input_sha256", String(64), nullable=False),
    Column("patient_ref_hmac", String(64)),
    Column("outputs", JSON, nullable=False),
    Column("flags", JSON, nullable=False),
)

# CDS Hooks card feedback (accepted / overridden). The card uuid is the request id of the
# assessment row it came from; free-text override comments are stored only as a SHA-256.
card_feedback = Table(
    "card_feedback",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("item", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("caller", String(100), nullable=False),
    Column("service_id", String(100), nullable=False),
    Column("card_uuid", String(36), nullable=False, index=True),
    Column("outcome", String(16), nullable=False),
    Column("outcome_at", DateTime(timezone=True), nullable=False),
    Column("accepted_suggestions", JSON, nullable=False),
    Column("override_reason", JSON),
    Column("comment_sha256", String(64)),
)


def canonical_sha256(payload: Any) -> str:
    """SHA-256 of JSON with sorted keys and no whitespace: equal inputs, equal hashes."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class AuditEntry:
    item: int
    input_sha256: str
    patient_ref: str | None
    outputs: dict[str, Any]
    flags: dict[str, Any]


@dataclass(frozen=True)
class FeedbackEntry:
    card_uuid: str
    outcome: str
    outcome_at: datetime
    accepted_suggestions: list[str]
    override_reason: dict[str, Any] | None
    comment_sha256: str | None


class AuditLog:
    """Append-only writer (and reader, for audits and tests) over one SQLAlchemy engine."""

    def __init__(self, url: str, salt: str = "") -> None:
        self.engine = _engine(url)
        self._salt = salt.encode()
        metadata.create_all(self.engine)
        self._pending: queue.SimpleQueue[tuple[list[dict[str, Any]], Future[None]] | None] = (
            queue.SimpleQueue()
        )
        self._writer = threading.Thread(target=self._write_loop, name="audit-writer", daemon=True)
        self._writer.start()

    def hash_ref(self, ref: str | None) -> str | None:
        if ref is None:
            return None
        return hmac.new(self._salt, ref.encode(), hashlib.sha256).hexdigest()

    def record(
        self,
        request_id: str,
        endpoint: str,
        caller: str,
        models: dict[str, Any],
        entries: Sequence[AuditEntry],
    ) -> None:
        """Write all rows of one request in one transaction; returns after the commit."""
        self.submit(request_id, endpoint, caller, models, entries).result()

    def submit(
        self,
        request_id: str,
        endpoint: str,
        caller: str,
        models: dict[str, Any],
        entries: Sequence[AuditEntry],
    ) -> Future[None]:
        """Queue one request's rows; the future completes when their transaction commits (on the
        event loop: ``await asyncio.wrap_future(...)``, and other requests run meanwhile)."""
        now = datetime.now(UTC)
        rows = [
            {
                "request_id": request_id,
                "item": e.item,
                "created_at": now,
                "endpoint": endpoint,
                "caller": caller,
                "models": models,
                "input_sha256": e.input_sha256,
                "patient_ref_hmac": self.hash_ref(e.patient_ref),
                "outputs": e.outputs,
                "flags": e.flags,
            }
            for e in entries
        ]
        done: Future[None] = Future()
        self._pending.put((rows, done))
        return done

    def _write_loop(self) -> None:
        """Commit whatever is waiting in one transaction; if that fails, each request alone, so
        one bad request cannot fail the others. One connection for the thread's life (a pool
        checkout per transaction costs about 0.1 ms); a failed one is replaced."""
        conn: Connection | None = None
        try:
            while True:
                first = self._pending.get()
                if first is None:
                    return
                batch = [first]
                while True:
                    try:
                        item = self._pending.get_nowait()
                    except queue.Empty:
                        break
                    if item is None:
                        self._pending.put(None)  # stop after this batch
                        break
                    batch.append(item)
                try:
                    conn = conn or self.engine.connect()
                    _insert(conn, [row for rows, _ in batch for row in rows])
                except Exception:
                    _discard(conn)
                    conn = None  # the next attempt connects anew
                    for rows, done in batch:
                        try:
                            conn = conn or self.engine.connect()
                            _insert(conn, rows)
                        except Exception as exc:
                            _discard(conn)
                            conn = None
                            done.set_exception(exc)
                        else:
                            done.set_result(None)
                else:
                    for _, done in batch:
                        done.set_result(None)
        finally:
            _discard(conn)

    def rows(self, request_id: str | None = None) -> list[dict[str, Any]]:
        query = select(assessments).order_by(assessments.c.created_at, assessments.c.item)
        if request_id is not None:
            query = query.where(assessments.c.request_id == request_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def record_feedback(
        self, request_id: str, caller: str, service_id: str, entries: Sequence[FeedbackEntry]
    ) -> None:
        """Insert a feedback call's rows in one transaction; returns after the commit."""
        now = datetime.now(UTC)
        rows = [
            {
                "request_id": request_id,
                "item": i,
                "created_at": now,
                "caller": caller,
                "service_id": service_id,
                **e.__dict__,
            }
            for i, e in enumerate(entries)
        ]
        with self.engine.begin() as conn:
            conn.execute(insert(card_feedback), rows)

    def feedback_rows(self, card_uuid: str | None = None) -> list[dict[str, Any]]:
        query = select(card_feedback).order_by(card_feedback.c.created_at, card_feedback.c.item)
        if card_uuid is not None:
            query = query.where(card_feedback.c.card_uuid == card_uuid)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def close(self) -> None:
        """Finish the writes already queued, then release the database."""
        self._pending.put(None)
        self._writer.join()
        self.engine.dispose()


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    with conn.begin():
        conn.execute(insert(assessments), rows)


def _discard(conn: Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine
