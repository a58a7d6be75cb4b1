"""Risk bands and the liver-test monitoring schedule they call for.

The cut-offs and intervals are policy, read from a sourced YAML (``defaults/service_policy.yaml``,
every leaf ``{value, source}``), so a clinic can review and replace them without code changes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from hepatorisk.sourced_yaml import load_sourced_yaml, validate_model

__all__ = [
    "DEFAULT_POLICY_PATH",
    "MonitoringSchedule",
    "Policy",
    "load_policy",
    "monitoring_schedule",
    "risk_band",
]

DEFAULT_POLICY_PATH = Path(__file__).resolve().parents[1] / "defaults" / "service_policy.yaml"


class Bands(BaseModel):
    cutoffs: list[float] = Field(min_length=1)
    names: list[str]

    @model_validator(mode="after")
    def _consistent(self) -> Bands:
        if len(self.names) != len(self.cutoffs) + 1:
            raise ValueError("names must have one more entry than cutoffs")
        if self.cutoffs != sorted(self.cutoffs) or not all(0 < c < 1 for c in self.cutoffs):
            raise ValueError("cutoffs must be increasing probabilities between 0 and 1")
        return self


class Plan(BaseModel):
    every_weeks: int = Field(ge=1, le=52)
    first_week: int = Field(ge=0, le=52)


class Monitoring(BaseModel):
    tests: list[str]
    horizon_weeks: int = Field(ge=1, le=104)
    plans: dict[str, Plan]
    elevated_retest_days: int = Field(ge=1, le=30)


class WhatIf(BaseModel):
    dose_multipliers: list[float]


class Policy(BaseModel):
    """The service policy; ``sources`` keeps each parameter's citation for the API to show."""

    bands: dict[str, Bands]
    monitoring: Monitoring
    what_if: WhatIf
    sources: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _plans_cover_bands(self) -> Policy:
        missing = {n for b in self.bands.values() for n in b.names} - set(self.monitoring.plans)
        if "liver" not in self.bands or "relapse" not in self.bands:
            raise ValueError("bands must define 'liver' and 'relapse'")
        if missing - set(self.bands["relapse"].names):
            raise ValueError(f"monitoring.plans lacks a plan for band(s) {sorted(missing)}")
        return self


def load_policy(path: Path | None = None) -> Policy:
    """Read and validate the policy; a bad value is reported as ``file:line: key: problem``."""
    config = load_sourced_yaml(path or DEFAULT_POLICY_PATH)
    policy = validate_model(Policy, config)
    return policy.model_copy(update={"sources": config.sources})


def risk_band(probability: float, bands: Bands) -> str:
    """The band a probability falls in: the first whose cut-off it is below."""
    return bands.names[bisect.bisect_right(bands.cutoffs, probability)]


@dataclass(frozen=True)
class MonitoringSchedule:
    band: str
    tests: list[str]
    weeks: list[int]
    retest_within_days: int | None
    summary: str
    source: str


def monitoring_schedule(
    liver_band: str, alt_or_ast_above_3x: bool, policy: Policy
) -> MonitoringSchedule:
    """Liver-test weeks for the liver risk band, with an early retest if ALT/AST is > 3x ULN."""
    m = policy.monitoring
    plan = m.plans[liver_band]
    weeks = list(range(max(plan.first_week, 1), m.horizon_weeks + 1, plan.every_weeks))
    retest = m.elevated_retest_days if alt_or_ast_above_3x else None
    summary = (
        f"{', '.join(m.tests)} every {plan.every_weeks} week(s) from week {weeks[0]} "
        f"to week {m.horizon_weeks} ({liver_band} liver risk)"
    )
    if retest is not None:
        summary = f"Repeat liver tests within {retest} days (ALT or AST > 3x ULN); then {summary}"
    source = policy.sources.get(f"monitoring.plans.{liver_band}", "")
    if retest is not None:
        source += " | " + policy.sources.get("monitoring.elevated_retest_days", "")
    return MonitoringSchedule(liver_band, list(m.tests), weeks, retest, summary, source)
