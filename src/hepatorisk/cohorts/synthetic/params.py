"""Typed parameters of the synthetic-cohort generator.

The values live in ``data/synthetic/generator.yaml``, each with its source; this module only says
what shape and range each parameter must have, so a typo or an impossible value is refused with
its file and line before any patient is simulated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepatorisk.paths import DEFAULT_GENERATOR_CONFIG
from hepatorisk.sourced_yaml import (
    SourcedConfig,
    load_sourced_yaml,
    merge_overrides,
    validate_model,
)

__all__ = ["GeneratorConfig", "load_generator_config"]

Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Field(gt=0.0)]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _shares_sum_to_one(shares: dict[str, float], name: str) -> None:
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{name} shares must sum to 1, they sum to {total:.6f}")


class FollowUp(_Params):
    weeks: Annotated[int, Field(ge=12, le=104)]
    lab_weeks: list[Annotated[int, Field(ge=0)]]
    liver_horizon_weeks: Annotated[int, Field(ge=1)]
    relapse_run_weeks: Annotated[int, Field(ge=1, le=12)]
    relapse_short_horizon_weeks: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _check(self) -> FollowUp:
        if self.lab_weeks != sorted(set(self.lab_weeks)) or self.lab_weeks[0] != 0:
            raise ValueError("lab_weeks must be increasing, unique and start at week 0")
        if self.liver_horizon_weeks > self.weeks or self.relapse_short_horizon_weeks > self.weeks:
            raise ValueError("outcome horizons cannot exceed the follow-up weeks")
        return self

    @property
    def post_baseline_lab_weeks(self) -> list[int]:
        return [w for w in self.lab_weeks if 0 < w <= self.weeks]


class Range(_Params):
    mean: float
    sd: Positive
    min: float
    max: float


class LogNormal(_Params):
    median: Positive
    sd_log: Positive


class MissingByDesign(_Params):
    """Fields a share of patients lack together (their trial did not collect them)."""

    share: Probability
    fields: list[str]


class Population(_Params):
    age: Range
    male_share: Probability
    race_ethnicity: dict[str, Probability]
    moud_arm: dict[str, Probability]
    primary_opioid: dict[str, Probability]
    injection_by_opioid: dict[str, Probability]
    heroin_days_mean_fraction: dict[str, Probability]
    heroin_days_concentration: Positive
    cocaine_share: Probability
    stable_housing_share: Probability
    employed_share: Probability
    prior_treatment_mean: Positive
    prior_treatment_max: Annotated[int, Field(ge=1)]
    bmi: LogNormal
    diabetes_logit: dict[str, float]
    audit_c_zero_share: Probability
    audit_c_drinker_p: Probability
    audit_c_positive_men: Annotated[int, Field(ge=1, le=12)]
    audit_c_positive_women: Annotated[int, Field(ge=1, le=12)]
    hcv_by_injection: dict[str, Probability]
    hbv_by_injection: dict[str, Probability]
    hiv_by_injection: dict[str, Probability]
    medications: dict[str, Probability]
    uds_entry_logit: dict[str, float]
    cows_entry: Range
    craving_entry: Range
    chronic_pain_share: Probability
    missing_by_design: MissingByDesign
    missing_at_random: dict[str, Probability]

    @model_validator(mode="after")
    def _check(self) -> Population:
        for name in ("race_ethnicity", "moud_arm", "primary_opioid"):
            _shares_sum_to_one(getattr(self, name), name)
        if set(self.moud_arm) != {"buprenorphine", "methadone", "xr_naltrexone", "none"}:
            raise ValueError("moud_arm needs exactly buprenorphine, methadone, xr_naltrexone, none")
        if set(self.primary_opioid) != {"heroin", "fentanyl", "prescription"}:
            raise ValueError("primary_opioid needs exactly heroin, fentanyl, prescription")
        return self


class DoseIncrease(_Params):
    probability_per_review: Probability
    review_weeks: list[Annotated[int, Field(ge=1)]]
    factor: Annotated[float, Field(gt=1.0)]


class Kratom(_Params):
    use_logit: dict[str, float]
    user_share_target: Probability
    product: dict[str, Probability]
    dose_g: dict[str, LogNormal]
    dose_log_shift: dict[str, float]
    dose_g_min: Positive
    dose_g_max: Positive
    mitragynine_mg_per_g: dict[str, tuple[Positive, Positive]]
    use_weeks: LogNormal
    dose_increase: DoseIncrease
    weekly_report_sd_log: Positive

    @model_validator(mode="after")
    def _check(self) -> Kratom:
        _shares_sum_to_one(self.product, "kratom.product")
        if set(self.product) != set(self.dose_g) or set(self.product) != set(
            self.mitragynine_mg_per_g
        ):
            raise ValueError("product, dose_g and mitragynine_mg_per_g must name the same products")
        return self


class KratomEffects(_Params):
    """One scenario of kratom's uncertain effects (issue 12: harm and benefit are assumptions)."""

    reaction_log_hazard: float
    craving_emax: Annotated[float, Field(ge=0.0, lt=1.0)]
    withdrawal_emax: Annotated[float, Field(ge=0.0, lt=1.0)]


class Injury(_Params):
    """One source of liver-enzyme elevation: its peak, pattern and course."""

    alt_peak_xuln: LogNormal
    r_ratio: LogNormal
    half_life_weeks: Positive


class Liver(_Params):
    lab_variation_sd_log: Positive
    kratom_reaction_log_hazard: dict[str, float]
    susceptibility_sd: Positive
    dose_reference_mg: Positive
    latency_days: LogNormal
    kratom_injury: Injury
    ast_to_alt_xuln: Positive
    alp_peak_max_xuln: Positive
    bilirubin_with_cholestasis: dict[str, Positive]
    bilirubin_peak_max_xuln: Positive
    ggt_to_alp_in_injury: Positive
    inr_rise_per_bilirubin_xuln: Positive
    symptomatic_stop_probability: Probability
    stop_on_detection_probability: Probability
    background_flare_logit: dict[str, float]
    background_flare: Injury
    nafld_logit: dict[str, float]


class Labs(_Params):
    uln: dict[str, Positive]
    alt_log_median: dict[str, float]
    ast_log_median: dict[str, float]
    ggt_log_median: dict[str, float]
    alp: LogNormal
    bilirubin: LogNormal
    albumin: Range
    inr: Range
    platelets: LogNormal
    lab_sd_log: dict[str, Positive]


class Relapse(_Params):
    weekly_logit_by_arm: dict[str, float]
    induction_failure: dict[str, Probability]
    after_induction_failure: dict[str, float]
    dropout_weekly: dict[str, Annotated[float, Field(gt=0.0, lt=1.0)]]
    dropout_per_unit_propensity: float
    weekly_logit: dict[str, float]
    induction: dict[str, float]
    persistence: float
    frailty_sd: Positive
    missing_share_of_use_weeks: Probability
    kratom_benefit: dict[str, float | list[str]]
    craving_course: dict[str, Positive]
    withdrawal_course: dict[str, Positive]
    weekly_noise: dict[str, Positive]

    @property
    def ed50_mitragynine_mg(self) -> float:
        return float(self.kratom_benefit["ed50_mitragynine_mg"])  # type: ignore[arg-type]

    @property
    def benefit_blocked_by(self) -> list[str]:
        blocked = self.kratom_benefit["blocked_by_arm"]
        assert isinstance(blocked, list)
        return blocked


class Symptoms(_Params):
    background: dict[str, Probability]
    with_injury: dict[str, Probability]
    jaundice_bilirubin_mg_dl: Positive


class Oracle(_Params):
    quadrature_nodes: Annotated[int, Field(ge=8, le=200)]
    injury_grid: Annotated[int, Field(ge=16, le=200)]
    r_grid: Annotated[int, Field(ge=4, le=64)]
    frailty_step_sd: Annotated[float, Field(gt=0.05, le=1.0)]


Scenario = Literal["low", "central", "high"]


class GeneratorConfig(_Params):
    follow_up: FollowUp
    population: Population
    kratom: Kratom
    scenario: Scenario
    kratom_effects: dict[Scenario, KratomEffects]
    liver: Liver
    labs: Labs
    relapse: Relapse
    symptoms: Symptoms
    oracle: Oracle

    @model_validator(mode="after")
    def _check(self) -> GeneratorConfig:
        if set(self.kratom_effects) != {"low", "central", "high"}:
            raise ValueError("kratom_effects needs exactly the scenarios low, central and high")
        return self

    @property
    def effects(self) -> KratomEffects:
        """Kratom's effects in the chosen scenario."""
        return self.kratom_effects[self.scenario]


def load_generator_config(
    path: Path | None = None, *, weeks: int | None = None, scenario: str | None = None
) -> GeneratorConfig:
    """Load the default parameters, overlaid with ``path`` (partial YAML), ``weeks`` and
    ``scenario`` if given."""
    config: SourcedConfig = load_sourced_yaml(DEFAULT_GENERATOR_CONFIG)
    if path is not None:
        config = merge_overrides(config, load_sourced_yaml(path, require_sources=False))
    if weeks is not None:
        override = SourcedConfig(
            {"follow_up": {"weeks": weeks}}, {}, {"follow_up.weeks": ("--weeks", 0)}
        )
        config = merge_overrides(config, override)
    if scenario is not None:
        override = SourcedConfig({"scenario": scenario}, {}, {"scenario": ("--scenario", 0)})
        config = merge_overrides(config, override)
    return validate_model(GeneratorConfig, config)
