"""The JSON API's response envelopes: the core's result types plus the request id and the
disclaimer, and the service-only answers (models, readiness, reload).

Assessments, predictions and explanations are the core's dataclasses (``assessment.results``),
serialised as they are by pydantic-core: a field is written once, there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pydantic_core
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

from hepatorisk.assessment.results import (
    DISCLAIMER,
    Assessment,
    ModelExplanation,
    ModelRef,
    Outcome,
    Prediction,
)

__all__ = [
    "AssessResponse",
    "BatchResponse",
    "ExplainResponse",
    "ModelInfoOut",
    "ModelsResponse",
    "PredictResponse",
    "ReadyOut",
    "ReloadOut",
    "dataclass_response",
    "json_response",
]

SCALES = (
    "log_odds: exact SHAP on the calibrated log-odds scale (additive: base + sum = log-odds "
    "of the served probability). probability: each input's share of the move from the base "
    "probability to the prediction, in proportion to its log-odds share (also additive)."
)


@dataclass(frozen=True)
class AssessResponse(Assessment):
    request_id: str
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True, kw_only=True)
class BatchResponse:
    request_id: str
    count: int
    assessments: list[Assessment]
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True, kw_only=True)
class PredictResponse:
    request_id: str
    risks: list[Prediction]
    disclaimer: str = DISCLAIMER


@dataclass(frozen=True, kw_only=True)
class ExplainResponse:
    request_id: str
    scales: str = SCALES
    explanations: list[ModelExplanation] = field(default_factory=list)


def dataclass_response(body: Any) -> Response:
    """The envelope as JSON, serialised once by pydantic-core from the dataclasses as they are
    (validating them into models first would only cost time, about 0.1 ms a patient); the
    route's ``response_model`` documents the same types."""
    return Response(pydantic_core.to_json(body), media_type="application/json")


def json_response(body: BaseModel) -> Response:
    """A pydantic model as JSON, serialised once (FastAPI does not encode a ``Response`` again)."""
    return Response(body.model_dump_json(), media_type="application/json")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class ModelInfoOut(_Out):
    outcome: Outcome
    model: ModelRef
    outcome_column: str | None
    horizon_weeks: int | None
    pipeline: Any = None
    test_metrics: dict[str, Any] | None
    input_columns: list[str]
    loaded_at: datetime


class ModelsResponse(_Out):
    models: list[ModelInfoOut]


class ReadyOut(_Out):
    ready: bool
    state: str
    error: str | None = None
    models: dict[str, str] = Field(default_factory=dict)


class ReloadOut(_Out):
    state: str
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    models: dict[str, str] = Field(default_factory=dict)
