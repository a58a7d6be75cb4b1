"""The audit trail: who asked what, which models answered, what they said.

One row per assessed patient, written and committed before the response leaves, so no
acknowledged assessment can be lost by a crash. Rows go through one writer thread that commits
whatever is waiting in one transaction (group commit): a caller returns only after the commit
that holds its rows, and under concurrent load many requests share one fsync. The input is
stored only as a keyed hash of its canonical JSON (``input_hmac``) and the caller's patient
reference only as a keyed hash (``patient_ref_hmac``), both HMAC-SHA-256 with the identifier
salt; each row names the key by its id (``key_id``, a fingerprint that reveals nothing of the
key), so that after a rotation old rows stay verifiable with the old key. The audit proves what
was assessed without holding patient data, and without the key a dictionary of likely inputs or
references cannot be matched against it. SQLite by default (WAL, synchronous FULL), any
SQLAlchemy URL in production (PostgreSQL).

Durability of an acknowledged assessment (a 200 leaves only after its commit returned):

- SQLite: journal_mode=WAL and synchronous=FULL on every connection: the commit returns after the
  write-ahead log holding the transaction was fsync'ed, so the row survives a crash of the
  service process and of the operating system or a power loss (on storage that honours fsync).
- PostgreSQL: the commit returns after the server flushed its WAL record to disk (fsync=on and
  synchronous_commit=on, the server defaults); a session whose server default is
  synchronous_commit=off is set back to on, and a server running with fsync=off is reported in
  the log. The row survives a crash of the service, of the database server and of its host; with
  synchronous replication configured by the operator, also the loss of the primary.
- Either way a commit that fails raises :class:`AuditUnavailableError`: the caller answers no
  assessment (the web layer answers 503 with Retry-After), so nothing is acknowledged unaudited.

:meth:`AuditLog.health` is the readiness probe: a trivial statement on a fresh connection (on
SQLite the write lock is taken and released), bounded by a timeout and cached for a second.
Database URLs are shown only through :func:`mask_url` (password replaced).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import queue
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import NullPool

from hepatorisk.assessment.audit_migrations import ensure_current
from hepatorisk.assessment.audit_schema import (
    AuditSchemaError,
    assessments,
    card_feedback,
    metadata,
)
from hepatorisk.exceptions import ConfigError, HepatoriskError

__all__ = [
    "AuditEntry",
    "AuditLog",
    "AuditSchemaError",
    "AuditUnavailableError",
    "FeedbackEntry",
    "canonical_json",
    "key_id",
    "mask_url",
    "mask_urls",
    "metadata",
]

log = logging.getLogger(__name__)

_PROBE_TIMEOUT_S = 2.0  # a probe that has not answered by then counts as "unavailable"
_PROBE_MAX_AGE_S = 1.0  # a probe's answer is reused this long (probes stay cheap)


class AuditUnavailableError(HepatoriskError):
    """The audit store could not commit (or cannot be reached): nothing may be acknowledged.

    The message names neither the database URL nor any row: only what kind of failure it was."""


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy can parse: mask whatever looks like a password
        return mask_urls(url)


_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^/:@\s]*:)[^@\s]*@")
_CONNINFO_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)


def mask_urls(text: str) -> str:
    """``text`` with the password of every URL (``scheme://user:password@``) and of every
    libpq ``password=...`` replaced by ``***``, e.g. in a driver's error message."""
    text = _PASSWORD.sub(r"\g<head>***@", text)
    return _CONNINFO_PASSWORD.sub(r"\g<head>***", text)


def _describe(exc: BaseException) -> str:
    """A failure as its type and first line, masked, without SQL or parameters."""
    orig = getattr(exc, "orig", None) or exc
    first = (str(orig).strip().splitlines() or [""])[0][:200]
    return mask_urls(f"{type(orig).__name__}: {first}")


def canonical_json(payload: Any) -> bytes:
    """JSON with sorted keys and no whitespace (UTF-8): equal inputs, equal bytes."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def key_id(salt: str) -> str:
    """The id of an identifier key stored with each row: 16 hex digits of a keyed hash of a
    fixed text, so it names the key without revealing it."""
    return hmac.new(salt.encode(), b"hepatorisk audit key id", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class AuditEntry:
    item: int
    input_hmac: str
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

    def __init__(
        self,
        url: str,
        salt: str | None = None,
        *,
        probe_timeout: float = _PROBE_TIMEOUT_S,
        probe_max_age: float = _PROBE_MAX_AGE_S,
    ) -> None:
        self.url = mask_url(url)  # for messages: never the password
        if salt is not None and not salt:
            raise ConfigError(
                "the identifier salt (HMAC key of the audit) is empty; a writer needs one "
                "(HEPATORISK_IDENTIFIER_SALT; hepatorisk salt --env-file FILE)"
            )
        self._salt = salt.encode() if salt else None  # None: this log reads, it cannot write
        self.key_id = key_id(salt) if salt else None
        self.engine = _engine(url)
        ensure_current(self.engine)  # tables of an empty database; any other schema refused
        self._probe_engine = _probe_engine(url, probe_timeout)
        self._probe_timeout = probe_timeout
        self._probe_max_age = probe_max_age
        self._probe_lock = threading.Lock()
        self._probe_running: Future[None] | None = None
        self._health: tuple[float, str | None] = (time.monotonic(), None)  # (when, problem)
        self._pending: queue.SimpleQueue[tuple[list[dict[str, Any]], Future[None]] | None] = (
            queue.SimpleQueue()
        )
        self._writer = threading.Thread(target=self._write_loop, name="audit-writer", daemon=True)
        self._writer.start()

    def hash_ref(self, ref: str | None) -> str | None:
        """The patient reference as HMAC-SHA-256 with the identifier salt (None stays None)."""
        if ref is None:
            return None
        return self._hmac(ref.encode())

    def hash_text(self, text: str | None) -> str | None:
        """Any free text (e.g. a CDS feedback comment) as HMAC-SHA-256 with the identifier salt;
        None or "" give None."""
        if not text:
            return None
        return self._hmac(text.encode())

    def hash_input(self, payload: Any) -> str:
        """A validated input (JSON-able) as HMAC-SHA-256 of its canonical JSON."""
        return self._hmac(canonical_json(payload))

    def _hmac(self, data: bytes) -> str:
        if self._salt is None:
            raise _read_only()
        return hmac.new(self._salt, data, hashlib.sha256).hexdigest()

    def _key_id(self) -> str:
        if self.key_id is None:
            raise _read_only()
        return self.key_id

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
                "input_hmac": e.input_hmac,
                "patient_ref_hmac": self.hash_ref(e.patient_ref),
                "key_id": self._key_id(),
                "outputs": e.outputs,
                "flags": e.flags,
            }
            for e in entries
        ]
        done: Future[None] = Future()
        self._pending.put((rows, done))
        return done

    def health_cached(self) -> tuple[bool, str | None]:
        """(fresh, problem) of the last probe, without probing: ``problem`` is None when the
        store answered; ``fresh`` is False once the answer is older than ``probe_max_age``."""
        when, problem = self._health
        return time.monotonic() - when < self._probe_max_age, problem

    def health(self) -> str | None:
        """None when the store answers, else why not (masked): the cached answer while fresh,
        else a new probe, waited for at most ``probe_timeout`` (a probe that hangs is not
        started twice). Blocks: call it from a thread."""
        fresh, problem = self.health_cached()
        if fresh:
            return problem
        with self._probe_lock:
            fresh, problem = self.health_cached()
            if fresh:
                return problem
            running = self._probe_running
            if running is None or running.done():
                running = self._probe_running = Future()
                threading.Thread(
                    target=self._probe, args=(running,), name="audit-probe", daemon=True
                ).start()
            try:
                running.result(timeout=self._probe_timeout)
                problem = None
            except TimeoutError:
                problem = f"audit store did not answer within {self._probe_timeout:g} s"
            except Exception as exc:
                problem = f"audit store unavailable: {_describe(exc)}"
            if problem is not None and self._health[1] is None:
                log.warning("%s (%s)", problem, self.url)
            elif problem is None and self._health[1] is not None:
                log.warning("audit store available again (%s)", self.url)
            self._health = (time.monotonic(), problem)
            return problem

    def _probe(self, done: Future[None]) -> None:
        try:
            with self._probe_engine.connect() as conn:
                if conn.dialect.name == "sqlite":
                    # the write lock, taken and released: a locked or vanished database fails
                    database = conn.engine.url.database
                    if database and database != ":memory:" and not os.path.exists(database):
                        raise FileNotFoundError(f"database file {database} is gone")
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                    conn.exec_driver_sql("ROLLBACK")
                else:
                    conn.exec_driver_sql("SELECT 1")
        except BaseException as exc:
            done.set_exception(exc)
        else:
            done.set_result(None)

    def _failed(self, exc: BaseException) -> AuditUnavailableError:
        """The exception a caller sees for a failed commit; the probe's answer goes stale, so
        the next readiness check probes again."""
        problem = f"audit commit failed: {_describe(exc)}"
        log.error("%s (%s)", problem, self.url)
        self._health = (time.monotonic() - self._probe_max_age, self._health[1] or problem)
        return AuditUnavailableError(problem)

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
                            done.set_exception(self._failed(exc))
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
                "key_id": self._key_id(),
            }
            for i, e in enumerate(entries)
        ]
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(card_feedback), rows)
        except Exception as exc:
            raise self._failed(exc) from None

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
        self._probe_engine.dispose()


def _read_only() -> ConfigError:
    return ConfigError("this audit log was opened without an identifier key: it only reads")


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    with conn.begin():
        conn.execute(insert(assessments), rows)


def _discard(conn: Connection | None) -> None:
    if conn is not None:
        with contextlib.suppress(Exception):
            conn.close()


def _engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        # a server that does not answer fails the connection (and so the commit) in 10 s
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        event.listen(engine, "connect", _postgres_durable)
        return engine
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


def _postgres_durable(dbapi_conn: Any, _record: Any) -> None:
    """A commit returns only once its WAL record is on the server's disk (module docstring)."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("SHOW synchronous_commit")
        if cursor.fetchone()[0] == "off":
            cursor.execute("SET synchronous_commit TO on")
        cursor.execute("SHOW fsync")
        if cursor.fetchone()[0] == "off":
            log.warning("the audit database runs with fsync=off: a server crash can lose commits")
    finally:
        cursor.close()
    if not getattr(dbapi_conn, "autocommit", True):
        dbapi_conn.commit()  # end the transaction SHOW opened; the SET is session-wide


def _probe_engine(url: str, timeout: float) -> Engine:
    """A separate engine for probes: a fresh connection each time (a pooled one could hide a
    server that is gone), the connection attempt itself bounded by ``timeout``."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        args: dict[str, Any] = {"check_same_thread": False, "timeout": timeout}
    elif backend == "postgresql":
        args = {"connect_timeout": max(1, round(timeout))}
    else:
        args = {}
    return create_engine(url, poolclass=NullPool, connect_args=args)
