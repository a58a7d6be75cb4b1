"""The serving model pair and its atomic replacement (hot reload without downtime).

A request takes ``store.current`` once and finishes on that pair; a reload loads replacements in
a thread and swaps the reference only when both loaded, so a failed reload keeps the old pair.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from hepatorisk.assessment.model_pair import Loader, ModelPair, load_model_pair
from hepatorisk.exceptions import HepatoriskError
from hepatorisk.tracking import load_versioned_model

__all__ = ["ModelStore", "ReloadStatus"]

log = logging.getLogger(__name__)


@dataclass
class ReloadStatus:
    state: str = "idle"  # idle | loading | succeeded | failed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class ModelStore:
    """Holds the current ``ModelPair``; loads replacements in a thread and swaps atomically."""

    def __init__(self, liver: str, relapse: str, loader: Loader = load_versioned_model) -> None:
        self.sources = (liver, relapse)
        self._loader = loader
        self._current: ModelPair | None = None
        self._lock = threading.Lock()
        self.status = ReloadStatus()
        self.on_swap: list[Callable[[ModelPair], None]] = []

    @property
    def current(self) -> ModelPair | None:
        return self._current

    def set(self, models: ModelPair) -> None:
        self._current = models  # one reference assignment: atomic for readers
        for callback in self.on_swap:
            callback(models)

    def reload(self) -> ReloadStatus:
        """Load both sources again; on success swap, on failure keep serving the old pair."""
        with self._lock:
            self.status = ReloadStatus("loading", datetime.now(UTC))
            try:
                models = load_model_pair(*self.sources, loader=self._loader)
            except HepatoriskError as exc:
                log.error("model reload failed, previous models keep serving: %s", exc)
                self.status = ReloadStatus(
                    "failed", self.status.started_at, datetime.now(UTC), str(exc)
                )
                return self.status
            self.set(models)
            log.info("models loaded: %s", models.describe())
            self.status = ReloadStatus("succeeded", self.status.started_at, datetime.now(UTC))
            return self.status

    def reload_in_background(self) -> threading.Thread | None:
        """Start a reload unless one is running; returns the thread (None if one was running)."""
        if self._lock.locked():
            return None
        thread = threading.Thread(target=self.reload, name="hepatorisk-reload", daemon=True)
        thread.start()
        return thread
