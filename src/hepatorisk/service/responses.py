"""Response models: what the API promises to return (built from the internal dataclasses)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import pydantic_core
from fastapi import Response
from pydantic import BaseModel, ConfigDict, Field

DISCLAIMER = (
    "Decision support only: hepatorisk's outputs inform, and never replace, a clinician's "
    "judgement. Models were trained on a synthetic cohort."
)


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def assessments_response(**body: Any) -> Response:
    """A response whose values hold the library's ``Assessment`` dataclasses, serialised as
    they are by pydantic-core: their fields are the response models' fields, one for one
    (tests/service/test_contract.py checks it), so validating them into those models first
    would only cost time (about 0.1 ms a patient)."""
    return Response(pydantic_core.to_json(body), media_type="application/json")


def json_response(body: BaseModel) -> Response:
    """The response model as JSON, serialised once by pydantic: a route that returns a
    ``Response`` is not validated and encoded a second time by FastAPI (the ``response_model``
    still documents it)."""
    return Response(body.model_dump_json(), media_type="application/json")


class ModelOut(_Out):
    name: str
    version: str | None
    alias: str | None
    run_id: str | None
    source: str


class DriverOut(_Out):
    variable: str
    label: str = Field(description="plain-word name of the clinical variable")
    direction: Literal["raises", "lowers"]
    log_odds: float = Field(description="exact SHAP contribution, calibrated log-odds scale")
    probability_points: float = Field(description="share of the probability move, in points")
    text: str
    provided: bool = Field(
        description="false when the request gave none of this variable's inputs: the "
        "contribution is the model's for a missing value, not a statement about the patient"
    )


class PredictionOut(_Out):
    outcome: Literal["liver", "relapse"]
    description: str
    probability: float = Field(ge=0, le=1, description="calibrated probability")
    band: str
    model: ModelOut


class RiskOut(PredictionOut):
    drivers: list[DriverOut]


class CtcaeOut(_Out):
    test: str
    grade: int = Field(ge=0, le=4)
    multiple: float
    reference: Literal["ULN", "baseline"]


class RuleOut(_Out):
    rule: str
    status: Literal["met", "not_met", "not_evaluable"]
    reason: str


class FlagsOut(_Out):
    ctcae: list[CtcaeOut] = Field(description="CTCAE v5.0 grades (abnormal-baseline rule applied)")
    r_ratio: float = Field(description="(ALT/ULN)/(ALP/ULN)")
    injury_pattern: Literal["hepatocellular", "mixed", "cholestatic"] | None
    hys_law: bool = Field(description="Hy's law laboratory criteria met in these labs")
    stopping_rules: list[RuleOut] = Field(description="FDA 2009 DILI stopping rules")
    stop_recommended: bool


class MonitoringOut(_Out):
    band: str
    tests: list[str]
    weeks: list[int]
    retest_within_days: int | None
    summary: str
    source: str


class DoseScenarioOut(_Out):
    label: str
    dose_g_day: float
    liver_probability: float
    relapse_probability: float
    liver_change_points: float
    relapse_change_points: float


class BenefitHarmOut(_Out):
    current_dose_g_day: float
    liver_probability: float
    relapse_probability: float
    scenarios: list[DoseScenarioOut]
    note: str


class AssessmentOut(_Out):
    risks: list[RiskOut]
    flags: FlagsOut
    monitoring: MonitoringOut
    benefit_harm: BenefitHarmOut


class AssessResponse(AssessmentOut):
    request_id: str
    disclaimer: str = DISCLAIMER


class BatchResponse(_Out):
    request_id: str
    count: int
    assessments: list[AssessmentOut]
    disclaimer: str = DISCLAIMER


class PredictResponse(_Out):
    request_id: str
    risks: list[PredictionOut]
    disclaimer: str = DISCLAIMER


class FeatureOut(_Out):
    feature: str
    label: str
    value: float | str | None
    log_odds: float
    probability: float


class GroupOut(_Out):
    variable: str
    label: str
    members: list[str]
    log_odds: float
    probability: float


class ModelExplanationOut(_Out):
    outcome: Literal["liver", "relapse"]
    model: ModelOut
    base_log_odds: float = Field(description="calibrated log-odds of the average patient")
    base_probability: float
    log_odds: float = Field(description="base_log_odds + sum of contributions.log_odds")
    probability: float
    contributions: list[FeatureOut] = Field(description="every model input, exact TreeSHAP")
    grouped: list[GroupOut] = Field(description="the same, summed by clinical variable")


class ExplainResponse(_Out):
    request_id: str
    scales: str = (
        "log_odds: exact SHAP on the calibrated log-odds scale (additive: base + sum = log-odds "
        "of the served probability). probability: each input's share of the move from the base "
        "probability to the prediction, in proportion to its log-odds share (also additive)."
    )
    explanations: list[ModelExplanationOut]


class ModelInfoOut(_Out):
    outcome: Literal["liver", "relapse"]
    model: ModelOut
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
