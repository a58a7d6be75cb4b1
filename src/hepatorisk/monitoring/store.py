"""De-identified monitoring records and outcome feedback, apart from the audit trail.

One row per assessed patient and model: the model's name and version, the landmark week (0:
entry models), the ISO week of the assessment (``2026-W49``: no day, no time), the model's
input columns as the model read them (typed values of the patient-record contract: numbers,
true/false, enumerated levels; the contract has no free-text field and no identifier column),
the calibrated probability and the band. No patient reference, name, date of birth or text is
stored. Two keys let outcomes that become known later find their row, neither readable without
the service's identifier salt: the request id (a random UUID the service made, which the caller
got in the answer) with the patient's position in the request, and the patient reference as the
audit's keyed hash (HMAC-SHA-256 with the identifier salt, ``AuditLog.hash_ref``).

Rows older than the retention (weeks) are deleted by ``purge`` (``hepatorisk monitor`` and the
service's writer call it). Outcome feedback is a second table keyed the same way. The tables
(``store_schema``) are made and changed by Alembic migrations (``store_migrations``).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import and_, create_engine, delete, insert, select
from sqlalchemy.engine import Engine

from hepatorisk.exceptions import ConfigError, DataContractError
from hepatorisk.monitoring.store_migrations import SCHEMA
from hepatorisk.monitoring.store_schema import MonitoringSchemaError, outcomes, records, summaries

__all__ = [
    "MonitoringRecord",
    "MonitoringSchemaError",
    "MonitoringStore",
    "Outcome",
    "iso_week",
    "patient_key",
    "week_start",
]

log = logging.getLogger(__name__)


def patient_key(salt: str, ref: str) -> str:
    """The patient reference as the audit trail keys it (HMAC-SHA-256 with the identifier salt,
    as ``AuditLog.hash_ref``): outcomes reported by reference find their records, and the
    reference itself is never stored."""
    return hmac.new(salt.encode(), ref.encode(), hashlib.sha256).hexdigest()


def iso_week(day: date | datetime | None = None) -> str:
    """The ISO week of a day (today, UTC, by default): ``2026-W49``."""
    d = day or datetime.now(UTC)
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(week: str) -> date:
    """Monday of an ISO week ``YYYY-Www``; a malformed week names the format."""
    try:
        return date.fromisocalendar(int(week[:4]), int(week[6:8]), 1)
    except (ValueError, IndexError):
        raise ConfigError(f"week {week!r}: expected an ISO week like 2026-W49") from None


@dataclass(frozen=True)
class MonitoringRecord:
    request_id: str
    item: int
    patient_key: str | None
    outcome: str
    model_name: str
    model_version: str
    features: dict[str, Any]
    probability: float
    band: str
    landmark: int = 0
    week: str = ""


@dataclass(frozen=True)
class Outcome:
    outcome: str
    value: int
    request_id: str | None = None
    item: int | None = None
    patient_key: str | None = None


class MonitoringStore:
    """The monitoring tables at a SQLAlchemy URL: an empty database gets them at the newest
    schema revision; any other schema but the newest is refused (``MonitoringSchemaError``,
    one message naming ``hepatorisk db upgrade --store monitoring``)."""

    def __init__(self, url: str, retention_weeks: int = 104):
        if retention_weeks < 1:
            raise ConfigError(
                f"monitoring retention must be at least 1 week, got {retention_weeks}"
            )
        self.retention_weeks = retention_weeks
        self.engine: Engine = create_engine(url, future=True)
        try:
            SCHEMA.ensure_current(self.engine)
        except BaseException:
            self.engine.dispose()
            raise

    def add(self, rows: Sequence[MonitoringRecord]) -> None:
        week = iso_week()
        values = [
            {
                "request_id": r.request_id,
                "item": r.item,
                "patient_key": r.patient_key,
                "outcome": r.outcome,
                "model_name": r.model_name,
                "model_version": r.model_version,
                "landmark": r.landmark,
                "week": r.week or week,
                "features": _plain(r.features),
                "probability": float(r.probability),
                "band": r.band,
            }
            for r in rows
        ]
        if values:
            with self.engine.begin() as conn:
                conn.execute(insert(records), values)

    def add_outcomes(self, rows: Sequence[Outcome], caller: str) -> int:
        """Store outcome feedback; each row needs a request id (with its item) or a patient key
        and a 0/1 value. Returns how many of them match a monitoring record."""
        for i, r in enumerate(rows):
            if r.value not in (0, 1):
                raise DataContractError(f"outcome row {i}: value must be 0 or 1, got {r.value!r}")
            if r.outcome not in ("liver", "relapse"):
                raise DataContractError(
                    f"outcome row {i}: outcome must be 'liver' or 'relapse', got {r.outcome!r}"
                )
            if r.request_id is None and r.patient_key is None:
                raise DataContractError(f"outcome row {i}: needs a request id or a patient key")
        week = iso_week()
        values = [
            {
                "request_id": r.request_id,
                "item": r.item,
                "patient_key": r.patient_key,
                "outcome": r.outcome,
                "value": int(r.value),
                "week": week,
                "caller": caller,
            }
            for r in rows
        ]
        if values:
            with self.engine.begin() as conn:
                conn.execute(insert(outcomes), values)
        return sum(self._matches(r) for r in rows)

    def _matches(self, r: Outcome) -> bool:
        if r.request_id is not None:
            where = and_(records.c.request_id == r.request_id, records.c.outcome == r.outcome)
            if r.item is not None:
                where = and_(where, records.c.item == r.item)
        else:
            where = and_(records.c.patient_key == r.patient_key, records.c.outcome == r.outcome)
        with self.engine.connect() as conn:
            return conn.execute(select(records.c.id).where(where).limit(1)).first() is not None

    def window(
        self, model_name: str | None, first: str | None = None, last: str | None = None
    ) -> pd.DataFrame:
        """Records of a model (all models when None) from ISO week ``first`` to ``last``
        (inclusive), with the outcome reported for each (NaN when none yet): by request id and
        item first, else by patient key (the latest report wins)."""
        query = select(records)
        if model_name is not None:
            query = query.where(records.c.model_name == model_name)
        if first is not None:
            week_start(first)
            query = query.where(records.c.week >= first)
        if last is not None:
            week_start(last)
            query = query.where(records.c.week <= last)
        with self.engine.connect() as conn:
            frame = pd.DataFrame(conn.execute(query).mappings().all())
            fed = pd.DataFrame(conn.execute(select(outcomes)).mappings().all())
        if frame.empty:
            return frame
        fed_rows = [dict(o) for o in fed.sort_values("id").to_dict("records")] if len(fed) else []
        by_request: dict[tuple[str, int | None, str], int] = {}
        by_key: dict[tuple[str, str], int] = {}
        for o in fed_rows:  # the latest report wins
            if isinstance(o["request_id"], str):
                item = None if pd.isna(o["item"]) else int(o["item"])
                by_request[(o["request_id"], item, o["outcome"])] = int(o["value"])
            if isinstance(o["patient_key"], str):
                by_key[(o["patient_key"], o["outcome"])] = int(o["value"])
        observed: list[float] = []
        for r in (
            dict(x)
            for x in frame[["request_id", "item", "patient_key", "outcome"]].to_dict("records")
        ):
            value = by_request.get((r["request_id"], int(r["item"]), r["outcome"]))
            if value is None:
                value = by_request.get((r["request_id"], None, r["outcome"]))
            if value is None and isinstance(r["patient_key"], str):
                value = by_key.get((r["patient_key"], r["outcome"]))
            observed.append(float("nan") if value is None else float(value))
        frame["observed"] = observed
        return frame

    def purge(self, today: date | None = None) -> int:
        """Delete records and outcomes older than the retention; returns rows deleted."""
        cutoff = iso_week(
            (today or datetime.now(UTC).date()) - timedelta(weeks=self.retention_weeks)
        )
        with self.engine.begin() as conn:
            gone = conn.execute(delete(records).where(records.c.week < cutoff)).rowcount
            gone += conn.execute(delete(outcomes).where(outcomes.c.week < cutoff)).rowcount
        return int(gone or 0)

    def save_summary(self, model_name: str, model_version: str, values: dict[str, float]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(summaries),
                [{"model_name": model_name, "model_version": model_version,
                  "week": iso_week(), "values": _plain(values)}],
            )  # fmt: skip

    def latest_summaries(self) -> dict[tuple[str, str], dict[str, Any]]:
        """(model name, version) -> the values of its latest monitor run."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(summaries).order_by(summaries.c.id)).mappings().all()
        return {(r["model_name"], r["model_version"]): dict(r["values"]) for r in rows}

    def close(self) -> None:
        self.engine.dispose()


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """JSON-able values: numpy scalars as Python numbers, NaN as None."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        if not isinstance(v, str | bool | int | float) and hasattr(v, "item"):
            v = v.item()  # numpy scalars
        if v is pd.NA or (isinstance(v, float) and v != v):
            v = None
        out[k] = v
    return out
