"""The pair of models an assessment asks: liver injury and relapse, loaded and checked together.

``ModelPair`` is immutable: a request takes one reference at its start and finishes on it, so a
reload that swaps in new versions never changes a model under a request in flight. Loading
checks that each model reads only columns the patient record supplies, so a model that cannot
be fed is refused at start-up or reload, never discovered by a patient's request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hepatorisk.assessment.inputs import RECORD_COLUMNS
from hepatorisk.assessment.results import ModelRef, Outcome
from hepatorisk.exceptions import DataSourceError, HepatoriskError
from hepatorisk.tracking import VersionedModel, load_versioned_model

__all__ = ["OUTCOMES", "Loader", "ModelPair", "load_model_pair", "model_ref"]

Loader = Callable[[str], VersionedModel]
OUTCOMES: tuple[Outcome, Outcome] = ("liver", "relapse")


@dataclass(frozen=True)
class ModelPair:
    liver: VersionedModel
    relapse: VersionedModel
    loaded_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def items(self) -> list[tuple[Outcome, VersionedModel]]:
        return [("liver", self.liver), ("relapse", self.relapse)]

    def versions(self) -> dict[str, str]:
        """outcome -> ``name:version@alias``, as the audit trail and the probes show them."""
        return {
            o: f"{m.name}:{m.version or 'unversioned'}" + (f"@{m.alias}" if m.alias else "")
            for o, m in self.items()
        }

    def describe(self) -> str:
        """One line for the logs: which versions answer."""
        return ", ".join(
            f"{o}={m.name} v{m.version or '?'}{'@' + m.alias if m.alias else ''}"
            for o, m in self.items()
        )


def model_ref(model: VersionedModel) -> ModelRef:
    return ModelRef(model.name, model.version, model.alias, model.run_id, model.source)


def load_model_pair(liver: str, relapse: str, loader: Loader = load_versioned_model) -> ModelPair:
    """Load both models or raise ``DataSourceError`` naming the one that failed and why."""
    loaded: dict[str, VersionedModel] = {}
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
        loaded[outcome] = model
    return ModelPair(loaded["liver"], loaded["relapse"])
