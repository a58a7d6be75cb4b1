"""The served pair of models and their atomic replacement.

``ServedModels`` is immutable: a request takes one reference at its start and finishes on it, so
a reload that swaps in new versions never changes a model under a request in flight. Loading
checks that each model reads only columns the API supplies, so a model the API cannot feed is
refused at start-up or reload, never discovered by a patient's request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hepatorisk.exceptions import DataSourceError, HepatoriskError
from hepatorisk.modeling.loading import LoadedModel, load_model
from hepatorisk.service.records import RECORD_COLUMNS
from hepatorisk.service.runtime import ServedModel

__all__ = ["Loader", "ModelStore", "ServedModels", "load_served_models"]

log = logging.getLogger(__name__)

Loader = Callable[[str], LoadedModel]
OUTCOMES = ("liver", "relapse")


@dataclass(frozen=True)
class ServedModels:
    liver: ServedModel
    relapse: ServedModel
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def items(self) -> list[tuple[str, ServedModel]]:
        return [("liver", self.liver), ("relapse", self.relapse)]


def load_served_models(liver: str, relapse: str, loader: Loader = load_model) -> ServedModels:
    """Load both models or raise ``DataSourceError`` naming the one that failed and why."""
    loaded = {}
    for outcome, source in (("liver", liver), ("relapse", relapse)):
        try:
            model = loader(source)
        except HepatoriskError:
            raise
        except Exception as exc:  # a registry client or a corrupt file can raise anything
            raise DataSourceError(
                f"{outcome} model {source}: cannot load ({type(exc).__name__}: {exc})"
            ) from None
        missing = sorted(set(model.bundle.input_columns) - set(RECORD_COLUMNS))
        if missing:
            raise DataSourceError(
                f"{outcome} model {source} reads column(s) the API does not supply: "
                f"{', '.join(missing)}; serve a model trained on the patient record"
            )
        loaded[outcome] = ServedModel(model)
    return ServedModels(**loaded)


@dataclass
class ReloadStatus:
    state: str = "idle"  # idle | loading | succeeded | failed
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None


class ModelStore:
    """Holds the current ``ServedModels``; loads replacements in a thread and swaps atomically."""

    def __init__(self, liver: str, relapse: str, loader: Loader = load_model) -> None:
        self.sources = (liver, relapse)
        self._loader = loader
        self._current: ServedModels | None = None
        self._lock = threading.Lock()
        self.status = ReloadStatus()
        self.on_swap: list[Callable[[ServedModels], None]] = []

    @property
    def current(self) -> ServedModels | None:
        return self._current

    def set(self, models: ServedModels) -> None:
        self._current = models  # one reference assignment: atomic for readers
        for callback in self.on_swap:
            callback(models)

    def reload(self) -> ReloadStatus:
        """Load both sources again; on success swap, on failure keep serving the old pair."""
        with self._lock:
            self.status = ReloadStatus("loading", datetime.now(UTC))
            try:
                models = load_served_models(*self.sources, loader=self._loader)
            except HepatoriskError as exc:
                log.error("model reload failed, previous models keep serving: %s", exc)
                self.status = ReloadStatus(
                    "failed", self.status.started_at, datetime.now(UTC), str(exc)
                )
                return self.status
            self.set(models)
            log.info("models loaded: %s", describe(models))
            self.status = ReloadStatus("succeeded", self.status.started_at, datetime.now(UTC))
            return self.status

    def reload_in_background(self) -> threading.Thread | None:
        """Start a reload unless one is running; returns the thread (None if one was running)."""
        if self._lock.locked():
            return None
        thread = threading.Thread(target=self.reload, name="hepatorisk-reload", daemon=True)
        thread.start()
        return thread


def describe(models: ServedModels) -> str:
    return ", ".join(
        f"{o}={m.loaded.name} v{m.loaded.version or '?'}"
        f"{'@' + m.loaded.alias if m.loaded.alias else ''}"
        for o, m in models.items()
    )
