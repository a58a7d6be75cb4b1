"""The thresholds of ``hepatorisk monitor`` and ``hepatorisk recalibrate``: the pipeline file's
``monitoring:`` block, validated here (the pipeline spec keeps it as a plain mapping)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hepatorisk.exceptions import ConfigError

__all__ = ["MonitoringSpec", "RecalibrationSpec", "load_thresholds"]

Share = Annotated[float, Field(ge=0, le=1)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RecalibrationSpec(_Spec):
    #: share of the local labelled rows kept apart for the local gate
    held_out: Annotated[float, Field(gt=0, lt=1)] = 0.5
    #: events in the fitting rows below which only the intercept is refitted
    min_events_for_slope: Annotated[int, Field(ge=10)] = 100
    seed: int = 7
    #: the challenger's calibration slope on the held-out rows must lie in this range
    slope_range: tuple[float, float] = (0.8, 1.2)


class MonitoringSpec(_Spec):
    #: PSI of an input column: >= warn is reported, >= flag is flagged (Siddiqi 2006's
    #: conventional 0.1 / 0.25)
    psi_warn: Annotated[float, Field(gt=0)] = 0.10
    psi_flag: Annotated[float, Field(gt=0)] = 0.25
    #: absolute change of a column's missing share flagged
    missing_change: Share = 0.10
    #: PSI of the predicted probabilities flagged
    prediction_psi_flag: Annotated[float, Field(gt=0)] = 0.10
    #: estimated (or realised) AUROC this far below the model's test AUROC is flagged
    auroc_drop: Share = 0.05
    #: outcomes needed before realised performance is reported
    min_outcomes: Annotated[int, Field(ge=10)] = 100
    #: |calibration intercept| flagged once outcomes are in (when its 95% CI excludes 0)
    intercept_flag: Annotated[float, Field(ge=0)] = 0.10
    recalibration: RecalibrationSpec = RecalibrationSpec()


def load_thresholds(pipeline: Path | None) -> MonitoringSpec:
    """The ``monitoring:`` block of a pipeline file (defaults when absent or no file given);
    a wrong key or value names the file and key."""
    if pipeline is None:
        return MonitoringSpec()
    document = _read(pipeline)
    block: dict[str, Any] = {}
    if document.get("extends"):  # shared sections live in the file a pipeline extends
        block |= _read(pipeline.parent / str(document["extends"])).get("monitoring") or {}
    block |= document.get("monitoring") or {}
    try:
        return MonitoringSpec.model_validate(block or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{pipeline}: monitoring.{where}: {first['msg']}") from None


def _read(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the pipeline file ({exc})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: a pipeline file is a mapping of sections")
    return document
