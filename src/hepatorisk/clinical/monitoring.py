"""Risk bands and the liver-test monitoring schedule they call for.

The schedule is counted from kratom start or the last dose increase, whichever is later, not
from treatment entry: kratom liver injury appears 1-8 weeks after regular use starts
(clinical-facts.md §1), so those weeks get the band's denser tests.
The cut-offs and intervals are policy, read from a sourced YAML (``defaults/service_policy.yaml``,
every leaf ``{value, source}``), so a clinic can review and replace them without code changes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from hepatorisk.sourced_yaml import load_sourced_yaml, validate_model

__all__ = [
    "DEFAULT_POLICY_PATH",
    "KratomExposure",
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
    """Within the latency window: a test at ``first_week`` of exposure, then every
    ``every_weeks``; after it (and without kratom): every ``after_window_every_weeks``."""

    every_weeks: int = Field(ge=1, le=52)
    first_week: int = Field(ge=0, le=52)
    after_window_every_weeks: int = Field(ge=1, le=52)


class Monitoring(BaseModel):
    tests: list[str]
    horizon_weeks: int = Field(ge=1, le=104)
    latency_window_weeks: int = Field(ge=1, le=52)
    plans: dict[str, Plan]
    elevated_retest_days: int = Field(ge=1, le=30)
    retest_on_cholestatic_trigger: bool


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
class KratomExposure:
    """How long the patient has taken kratom at the current dose: what the schedule counts from.

    ``use_weeks``: weeks of kratom use so far; ``weeks_since_dose_increase``: weeks since the
    last dose increase; None = not known. ``taking``: kratom is taken now (a product and a dose
    above 0)."""

    taking: bool
    use_weeks: int | None = None
    weeks_since_dose_increase: int | None = None


CountedFrom = Literal["dose_increase", "kratom_start", "assumed_now", "no_kratom"]


@dataclass(frozen=True)
class MonitoringSchedule:
    band: str
    tests: list[str]
    weeks: Annotated[
        list[int], Field(description="weeks from this assessment at which to test the liver")
    ]
    retest_within_days: int | None
    summary: str
    source: str
    counted_from: Annotated[
        CountedFrom,
        Field(
            description="what the kratom latency window is counted from: the last dose "
            "increase, the start of kratom use, a start assumed at this assessment (neither "
            "was given), or nothing (no kratom taken)"
        ),
    ]
    exposure_weeks: Annotated[
        int | None,
        Field(
            description="weeks since kratom start or the last dose increase, whichever is "
            "later (None: not given, or no kratom)"
        ),
    ]
    reason: Annotated[
        str, Field(description="what the weeks are counted from, and any assumption made")
    ]
    retest_triggers: Annotated[
        list[str], Field(description="what calls for the early retest (empty: none)")
    ]


def monitoring_schedule(
    liver_band: str,
    policy: Policy,
    exposure: KratomExposure,
    *,
    elevated: str | None = None,
    cholestatic: str | None = None,
) -> MonitoringSchedule:
    """Liver-test weeks (from this assessment) for the liver risk band and kratom exposure.

    Kratom liver injury appears 1-8 weeks after regular use starts (LiverTox; DILIN median
    latency 14-22 days; clinical-facts.md §1), and a dose increase starts that window again. So
    the band's denser plan (a test at ``first_week``, then every ``every_weeks``) runs on the
    exposure clock, min(weeks of use, weeks since the last dose increase), until the window
    (``monitoring.latency_window_weeks``) has passed; then every ``after_window_every_weeks``,
    which is also the whole plan for a patient who takes no kratom. When neither duration is
    given the schedule assumes the whole window lies ahead (kratom started or increased at this
    assessment, the cautious choice) and says so in ``reason``.

    An early retest (``monitoring.elevated_retest_days``) is due when ``elevated`` is given (the
    values that put ALT or AST above 3x its reference), or ``cholestatic`` (the values that met
    the cholestatic trigger) when ``monitoring.retest_on_cholestatic_trigger`` is set.
    """
    m = policy.monitoring
    plan = m.plans[liver_band]
    window, horizon, after = m.latency_window_weeks, m.horizon_weeks, plan.after_window_every_weeks
    counted_from, clock, reason = _exposure_clock(exposure)
    weeks: list[int] = []
    last = 0  # weeks from now at which the after-window interval starts
    in_window = clock is not None and clock < window
    if clock is not None and in_window:
        on_clock = range(plan.first_week, window + 1, plan.every_weeks)
        weeks = [t - clock for t in on_clock if clock < t <= clock + horizon]
        last = max([window - clock, *weeks])
        plan_text = (
            f"every {plan.every_weeks} week(s) to week {window} of kratom exposure, i.e. "
            f"{window - clock} week(s) from now, as injury appears 1-{window} weeks after "
            f"kratom is started or increased; then every {after} week(s)"
        )
    else:
        plan_text = f"every {after} week(s)" + (
            f": the 1-{window} week latency window has passed" if clock is not None else ""
        )
    weeks += range(last + after, horizon + 1, after)
    if not weeks:  # a test within the horizon in any case
        weeks = [horizon]
    summary = (
        f"{', '.join(m.tests)} at week(s) {', '.join(map(str, weeks))} from now "
        f"({plan_text}; {liver_band} liver risk; {horizon}-week horizon). {reason}"
    )
    triggers = [elevated] if elevated else []
    if cholestatic and m.retest_on_cholestatic_trigger:
        triggers.append(f"cholestatic trigger: {cholestatic}")
    retest = m.elevated_retest_days if triggers else None
    if retest is not None:
        summary = f"Repeat liver tests within {retest} days ({'; '.join(triggers)}); then {summary}"
    keys = [f"monitoring.plans.{liver_band}"]
    keys += ["monitoring.latency_window_weeks"] if counted_from != "no_kratom" else []
    keys += ["monitoring.elevated_retest_days"] if retest is not None else []
    keys += ["monitoring.retest_on_cholestatic_trigger"] if len(triggers) > bool(elevated) else []
    source = " | ".join(policy.sources[k] for k in keys if policy.sources.get(k))
    exposure_weeks = None if counted_from == "assumed_now" else clock
    return MonitoringSchedule(
        liver_band,
        list(m.tests),
        weeks,
        retest,
        summary,
        source,
        counted_from,
        exposure_weeks,
        reason,
        triggers,
    )


def _exposure_clock(exposure: KratomExposure) -> tuple[CountedFrom, int | None, str]:
    """What the latency window counts from, the weeks on that clock, and the reason in words."""
    if not exposure.taking:
        return "no_kratom", None, "No kratom taken now: no kratom latency window to cover."
    use, since = exposure.use_weeks, exposure.weeks_since_dose_increase
    if use is None and since is None:
        return (
            "assumed_now",
            0,
            "Assumption: neither the weeks of kratom use nor the weeks since the last dose "
            "increase were given, so the schedule assumes kratom was started or its dose "
            "increased now and the whole latency window lies ahead (the cautious choice); give "
            "either to count from the real start.",
        )
    if since is not None and (use is None or since < use):
        also = "" if use is None else f"; kratom taken for {use} week(s)"
        return (
            "dose_increase",
            since,
            f"Counted from the last dose increase, {since} week(s) ago{also}.",
        )
    assert use is not None
    unknown = "; no dose increase given" if since is None else ""
    return "kratom_start", use, f"Counted from the start of kratom use, {use} week(s) ago{unknown}."
