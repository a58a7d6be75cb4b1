"""The served model's answer under other scenarios of the synthetic cohort's assumptions.

The synthetic cohort is generated under one scenario of kratom's uncertain effects (its excess
liver-injury risk and its benefit on craving and withdrawal: generator.yaml ``kratom_effects``,
low, central and high). The served model learned that scenario's answer. A scenario model is the
same recipe (same feature builder, parameters and calibration form) refitted on the same-seed,
same-size cohort generated under another scenario (``training.scenario_models``), so that an
answer can say how far it rests on the assumption (issue 13 item 4). They travel inside the
served bundle, so one registered version carries its own scenario answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb

from hepatorisk.modeling.estimators import (
    CalibratedBooster,
    calibration_from_saved,
    saved_calibration,
)

__all__ = ["ScenarioModels"]


@dataclass(frozen=True)
class ScenarioModels:
    """Scenario name -> the calibrated booster refitted on that scenario's cohort; ``served``:
    the scenario of the cohort the served model learned from.

    ``noise_points``: how far the answers differ by refitting alone, measured where the
    assumption cannot act: the 90th percentile, over the training cohort's calibration rows of
    patients not using kratom, of the spread (percentage points) between the served model's
    and the scenario models' risks. The scenario cohorts are fresh draws (the generator shares
    no random numbers between scenarios), so a patient's scenario answers differ by this much
    even where kratom plays no part; None when not measured."""

    served: str
    models: Mapping[str, CalibratedBooster]
    noise_points: float | None = None

    @property
    def names(self) -> list[str]:
        return list(self.models)

    def to_dict(self) -> dict[str, Any]:
        """What bundle.json keeps (each booster is saved beside it as ``scenario_<name>.txt``)."""
        return {
            "served": self.served,
            "noise_points": self.noise_points,
            "models": {name: saved_calibration(m) for name, m in self.models.items()},
        }

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        boosters: Sequence[lgb.Booster],
        template: CalibratedBooster,
    ) -> ScenarioModels:
        """The models rebuilt around their saved boosters (in ``data["models"]`` order), with
        the served model's parameters."""
        saved = data["models"]
        models = {
            name: template.with_calibration(*calibration_from_saved(saved[name]), booster)
            for name, booster in zip(saved, boosters, strict=True)
        }
        noise = data.get("noise_points")
        return cls(str(data["served"]), models, None if noise is None else float(noise))
