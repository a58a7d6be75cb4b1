"""The relapse mechanism: treatment arms, weekly opioid use, attendance, and kratom's effect.

Each treatment week a patient still in treatment uses opioids with a log-odds built from the
published predictors, the arm, a latent frailty, the previous week's status (use persists) and
the expected craving and withdrawal that week. The arms differ as in the trials: a weekly use
level per arm, induction failures (X:BOT: 28% on XR-naltrexone, 6% on buprenorphine) that leave
the patient without medication and mostly out of treatment, and dropout (START: 74% of methadone
and 46% of buprenorphine patients complete 24 weeks). A patient who leaves has every later screen
missing, which the CTN-0094 rule counts as positive. Kratom lowers craving and withdrawal by an
Emax function of the daily mitragynine dose while it is taken, except under XR-naltrexone (an
opioid antagonist); stopping it after a liver event removes that benefit.

The true risk (``relapse_risk``) runs the run-length rule exactly as a dynamic programme over
weeks with state (run of positive-or-missing weeks, kratom still taken), for each induction
outcome and each completion of unknown record fields, integrating the frailty by Gauss-Hermite
quadrature, dropout by its hazard, and the week kratom stops by its exact law from the liver
oracle. The programme is compiled with numba: it is the generator's inner loop.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from scipy.special import expit

from hepatorisk.cohorts.synthetic.liver import Intervention
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.cohorts.synthetic.population import (
    Baseline,
    kratom_effect_fraction,
    unknown_field_weights,
)

__all__ = [
    "ArmCourse",
    "RelapseCourse",
    "enrolled_probability",
    "expected_scores",
    "relapse_risk",
    "simulate_relapse",
]


def kratom_active(
    base: Baseline,
    induction_failed: np.ndarray | bool,
    intervention: Intervention | None,
    config: GeneratorConfig,
) -> np.ndarray:
    """Fraction of kratom's Emax reached while it is taken (0 for non-users, and under an opioid
    antagonist that was started)."""
    factor = 1.0 if intervention is None else intervention.dose_factor
    fraction = kratom_effect_fraction(base.mitragynine_mg_day * factor, config) * base.kratom_user
    blocked = np.logical_or.reduce(
        [base.arm_is[a] for a in config.relapse.benefit_blocked_by] + [np.zeros(base.n, bool)]
    )
    blocked = blocked & ~np.asarray(induction_failed)
    active: np.ndarray = np.where(blocked, 0.0, fraction)
    return active


def expected_scores(
    base: Baseline,
    week: int,
    active: np.ndarray,
    on_kratom: np.ndarray | bool,
    config: GeneratorConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Expected craving (0-100) and COWS withdrawal score in ``week`` of treatment."""
    r, eff = config.relapse, config.effects
    on = active * on_kratom
    cc, wc = r.craving_course, r.withdrawal_course
    craving_course = cc["floor"] + (1 - cc["floor"]) * np.exp(-week / cc["decay_weeks"])
    cows_course = wc["floor"] + (1 - wc["floor"]) * np.exp(-week / wc["decay_weeks"])
    craving = base.craving_need * craving_course * (1 - eff.craving_emax * on)
    cows = base.cows_need * cows_course * (1 - eff.withdrawal_emax * on)
    return craving, cows


def _arm_logit(base: Baseline, failed: bool, config: GeneratorConfig) -> np.ndarray:
    r = config.relapse
    if failed:
        return np.full(base.n, r.after_induction_failure["weekly_logit"])
    return _by_arm(base, r.weekly_logit_by_arm)


def _static_logit(base: Baseline, config: GeneratorConfig, *, known_only: bool) -> np.ndarray:
    """Record terms of the weekly log-odds; ``known_only`` leaves unknown fields out (the
    oracle adds them per completion)."""
    c = config.relapse.weekly_logit
    terms = (
        c["per_10_heroin_days"] * base.heroin_days / 10
        + c["cocaine"] * base.cocaine
        + c["per_10_years_age"] * (base.age - 35) / 10
        + c["per_prior_treatment"] * base.prior_treatments
    )
    if known_only:
        return terms
    return (
        terms
        + c["injection"] * base.injection
        + c["unstable_housing"] * base.unstable_housing
        + c["unemployed"] * base.unemployed
    )


def _week_logit(
    base: Baseline,
    week: int,
    failed: bool,
    on: bool,
    intervention: Intervention | None,
    config: GeneratorConfig,
) -> np.ndarray:
    c = config.relapse.weekly_logit
    active = kratom_active(base, failed, intervention, config)
    craving, cows = expected_scores(base, week, active, on, config)
    induction = config.relapse.induction
    return (
        _arm_logit(base, failed, config)
        + c["per_week"] * week
        + induction["logit"] * (week <= induction["weeks"])
        + c["per_20_craving"] * (craving - 50) / 20
        + c["per_5_cows"] * (cows - 8) / 5
    )


def _by_arm(base: Baseline, table: dict[str, float]) -> np.ndarray:
    values = np.zeros(base.n)
    for arm, rows in base.arm_is.items():
        values[rows] = table[arm]
    return values


def _failure_probability(base: Baseline, config: GeneratorConfig) -> np.ndarray:
    return _by_arm(base, config.relapse.induction_failure)


def _dropout_logit(base: Baseline, failed: bool, config: GeneratorConfig) -> np.ndarray:
    """Log-odds of leaving treatment in a week, for a patient of average use propensity."""
    r = config.relapse
    if failed:
        hazard = np.full(base.n, r.after_induction_failure["dropout_weekly"])
    else:
        hazard = _by_arm(base, r.dropout_weekly)
    logit: np.ndarray = np.log(hazard) - np.log1p(-hazard)
    return logit


def _offsets(base: Baseline, config: GeneratorConfig) -> tuple[np.ndarray, np.ndarray]:
    """The offset grid of the weekly-use log-odds (frailty + unknown fields), with weights."""
    r = config.relapse
    combos, weights = unknown_field_weights(base, config)
    c = r.weekly_logit
    effect = combos @ np.array([c["injection"], c["unstable_housing"], c["unemployed"]])
    return offset_grid(effect, weights, r.frailty_sd, config.oracle.frailty_step_sd)


def enrolled_probability(base: Baseline, config: GeneratorConfig) -> np.ndarray:
    """P(still in treatment at week w | record), w = 0..weeks. Leaving depends on the arm, the
    induction and the use propensity, never on the liver, so the liver oracle can use this."""
    weeks = np.arange(config.follow_up.weeks + 1)
    fail = _failure_probability(base, config)
    grid, weights = _offsets(base, config)
    gamma = config.relapse.dropout_per_unit_propensity
    result = np.zeros((base.n, len(weeks)))
    for failed, weight in ((False, 1.0 - fail), (True, fail)):
        stay = 1.0 - expit(_dropout_logit(base, failed, config)[:, None] + gamma * grid[None, :])
        result += weight[:, None] * np.einsum("ij,ijw->iw", weights, stay[:, :, None] ** weeks)
    return result


@numba.njit(cache=True, parallel=True)
def _relapse_programme(
    eta: np.ndarray,  # (n, 2 induction, weeks, 2 on)
    p_fail: np.ndarray,  # (n,)
    offsets: np.ndarray,  # (J,) frailty + unknown-field offsets on the log-odds scale
    offset_w: np.ndarray,  # (n, J) their probabilities per patient
    persistence: float,
    entry_positive: np.ndarray,  # (n,)
    user: np.ndarray,  # (n,)
    stop_h: np.ndarray,  # (n, weeks): hazard of stopping kratom after week w
    drop_logit: np.ndarray,  # (n, 2 induction): weekly dropout log-odds at offset 0
    drop_gamma: float,  # dropout log-odds per unit of offset (use propensity)
    run: int,
    short_horizon: int,
) -> tuple[np.ndarray, np.ndarray]:
    n, _, weeks, _ = eta.shape
    short = np.zeros(n)
    long = np.zeros(n)
    for i in numba.prange(n):
        state = np.zeros((run, 2))
        new = np.zeros((run, 2))
        p_use = np.zeros(2)
        first_on = 1 if user[i] else 0
        for f in range(2):
            wf = p_fail[i] if f == 1 else 1.0 - p_fail[i]
            if wf <= 0.0:
                continue
            for j in range(offsets.shape[0]):
                w_all = wf * offset_w[i, j]
                if w_all <= 1e-14:
                    continue
                d = 1.0 / (1.0 + np.exp(-(drop_logit[i, f] + drop_gamma * offsets[j])))
                state[:, :] = 0.0
                state[0, first_on] = 1.0
                rel_short = 0.0
                rel_long = 0.0
                for week in range(1, weeks + 1):
                    # leaving treatment: every later screen is missing
                    for k in range(run):
                        gone = (state[k, 0] + state[k, 1]) * d
                        state[k, 0] *= 1.0 - d
                        state[k, 1] *= 1.0 - d
                        end = week + run - 1 - k
                        if end <= weeks:
                            rel_long += gone
                            if end <= short_horizon:
                                rel_short += gone
                    new[:, :] = 0.0
                    for on in range(first_on + 1):
                        x = eta[i, f, week - 1, on] + offsets[j]
                        if week == 1:  # the entry screen plays the previous week's part
                            p_use[0] = 1.0 / (1.0 + np.exp(-(x + persistence * entry_positive[i])))
                            p_use[1] = p_use[0]
                        else:
                            p_use[0] = 1.0 / (1.0 + np.exp(-x))
                            p_use[1] = 1.0 / (1.0 + np.exp(-(x + persistence)))
                        for k in range(run):
                            mass = state[k, on]
                            if mass == 0.0:
                                continue
                            p = p_use[1] if k > 0 else p_use[0]
                            new[0, on] += mass * (1.0 - p)
                            if k + 1 < run:
                                new[k + 1, on] += mass * p
                            else:
                                rel_long += mass * p
                                if week <= short_horizon:
                                    rel_short += mass * p
                    h = stop_h[i, week - 1]
                    for k in range(run):
                        moved = new[k, 1] * h
                        state[k, 1] = new[k, 1] - moved
                        state[k, 0] = new[k, 0] + moved
                short[i] += w_all * rel_short
                long[i] += w_all * rel_long
    return short, long


def offset_grid(
    shifts: np.ndarray, weights: np.ndarray, sd: float, step_sd: float
) -> tuple[np.ndarray, np.ndarray]:
    """A common grid for the patient's log-odds offset (frailty ~ N(0, sd) plus the effect of
    unknown record fields, a discrete mixture) and each patient's weights on it.

    The trapezoid rule on a uniform grid integrates smooth functions against a normal density
    with an error of order exp(-2 pi^2 / step_sd^2), far below any cohort's sampling error."""
    tail = 5.5 * sd
    grid = np.arange(shifts.min() - tail, shifts.max() + tail + 1e-9, step_sd * sd)
    density = np.exp(-0.5 * ((grid[None, :] - shifts[:, None]) / sd) ** 2)  # (C, J)
    w = weights @ density
    w /= w.sum(axis=1, keepdims=True)
    return grid, w


def relapse_risk(
    base: Baseline,
    stop_survival: np.ndarray,
    config: GeneratorConfig,
    intervention: Intervention | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """True P(relapse by the short horizon) and by the end of follow-up, given the record.

    ``stop_survival[i, v]`` = P(patient i still takes kratom after week v | in treatment),
    v = 0..weeks, from the liver oracle."""
    r, fu = config.relapse, config.follow_up
    offsets, offset_w = _offsets(base, config)
    static = _static_logit(base, config, known_only=True)
    eta = np.empty((base.n, 2, fu.weeks, 2))
    for f, failed in enumerate((False, True)):
        for on in (0, 1):
            for week in range(1, fu.weeks + 1):
                eta[:, f, week - 1, on] = static + _week_logit(
                    base, week, failed, bool(on), intervention, config
                )
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = 1.0 - stop_survival[:, 1:] / stop_survival[:, :-1]
    hazard = np.where(stop_survival[:, :-1] > 0, hazard, 1.0)
    drop = np.c_[_dropout_logit(base, False, config), _dropout_logit(base, True, config)]
    users = base.kratom_user & (intervention is None or intervention.dose_factor > 0)
    short, long = _relapse_programme(
        eta,
        _failure_probability(base, config),
        offsets,
        offset_w,
        r.persistence,
        base.uds_entry_positive.astype(np.float64),
        users,
        np.ascontiguousarray(hazard),
        drop,
        r.dropout_per_unit_propensity,
        fu.relapse_run_weeks,
        fu.relapse_short_horizon_weeks,
    )
    return short, long


@dataclass
class ArmCourse:
    """Use propensity, induction outcome and the week a patient leaves treatment (inf: stays)."""

    frailty: np.ndarray
    induction_failed: np.ndarray
    dropout_week: np.ndarray

    def enrolled(self, weeks: int) -> np.ndarray:
        """(patients, weeks + 1): in treatment at week w (week 0 = entry)."""
        enrolled: np.ndarray = np.arange(weeks + 1)[None, :] < self.dropout_week[:, None]
        return enrolled


def simulate_arm(rng: np.random.Generator, base: Baseline, config: GeneratorConfig) -> ArmCourse:
    """Draw the use frailty, the induction outcome and the dropout week (geometric, by arm,
    induction and use propensity). ``base`` is the complete record."""
    r = config.relapse
    frailty = r.frailty_sd * rng.standard_normal(base.n)
    failed = rng.random(base.n) < _failure_probability(base, config)
    c = r.weekly_logit
    propensity = (
        frailty
        + c["injection"] * base.injection
        + c["unstable_housing"] * base.unstable_housing
        + c["unemployed"] * base.unemployed
    )
    logit = np.where(
        failed, _dropout_logit(base, True, config), _dropout_logit(base, False, config)
    )
    hazard = expit(logit + r.dropout_per_unit_propensity * propensity)
    dropout = rng.geometric(hazard).astype(float)
    dropout[dropout > config.follow_up.weeks] = np.inf
    return ArmCourse(frailty=frailty, induction_failed=failed, dropout_week=dropout)


@dataclass
class RelapseCourse:
    frailty: np.ndarray
    positive_or_missing: np.ndarray  # (patients, weeks) bool, week 1..weeks
    uds: np.ndarray  # (patients, weeks) 'positive' / 'negative' / 'missing'
    craving: np.ndarray  # (patients, weeks) score (recorded only when attended)
    cows: np.ndarray  # (patients, weeks)
    relapse_week: np.ndarray  # week the 4th consecutive positive-or-missing week ends (inf: none)


def simulate_relapse(
    rng: np.random.Generator,
    base: Baseline,
    arm: ArmCourse,
    on_kratom: np.ndarray,
    config: GeneratorConfig,
    intervention: Intervention | None = None,
) -> RelapseCourse:
    """Simulate weekly screens; ``on_kratom[:, w-1]`` says whether kratom is taken in week w."""
    r, fu = config.relapse, config.follow_up
    n, weeks = base.n, fu.weeks
    frailty = arm.frailty
    static = _static_logit(base, config, known_only=False)
    lab_weeks = set(fu.post_baseline_lab_weeks)
    failed = arm.induction_failed
    active = kratom_active(base, failed, intervention, config)
    bad = np.zeros((n, weeks), dtype=bool)
    uds = np.full((n, weeks), "negative", dtype=object)
    craving = np.zeros((n, weeks))
    cows = np.zeros((n, weeks))
    prev = base.uds_entry_positive.copy()
    noise = r.weekly_noise
    for week in range(1, weeks + 1):
        on = on_kratom[:, week - 1]
        eta = static + np.select(
            [failed & on, failed & ~on, ~failed & on],
            [
                _week_logit(base, week, True, True, intervention, config),
                _week_logit(base, week, True, False, intervention, config),
                _week_logit(base, week, False, True, intervention, config),
            ],
            default=_week_logit(base, week, False, False, intervention, config),
        )
        in_treatment = week < arm.dropout_week
        use = rng.random(n) < expit(eta + frailty + r.persistence * prev)
        missed = (week not in lab_weeks) & (rng.random(n) < r.missing_share_of_use_weeks)
        now = use | ~in_treatment
        bad[:, week - 1] = now
        uds[:, week - 1] = np.where(
            ~in_treatment | (use & missed), "missing", np.where(use, "positive", "negative")
        )
        exp_craving, exp_cows = expected_scores(base, week, active, on, config)
        craving[:, week - 1] = (
            exp_craving
            + noise["craving_if_using"] * use
            + noise["craving_sd"] * rng.standard_normal(n)
        )
        cows[:, week - 1] = (
            exp_cows + noise["cows_if_using"] * use + noise["cows_sd"] * rng.standard_normal(n)
        )
        prev = now
    return RelapseCourse(
        frailty=frailty,
        positive_or_missing=bad,
        uds=uds.astype(str),
        craving=np.clip(craving, 0, 100).round(0),
        cows=np.clip(cows, 0, 48).round(0),
        relapse_week=first_run_end(bad, fu.relapse_run_weeks),
    )


def first_run_end(flags: np.ndarray, run: int) -> np.ndarray:
    """Week (1-based) ending the first run of ``run`` consecutive True values; inf if none."""
    count = np.zeros(flags.shape[0], dtype=int)
    end = np.full(flags.shape[0], np.inf)
    for week in range(flags.shape[1]):
        count = np.where(flags[:, week], count + 1, 0)
        end = np.where(np.isinf(end) & (count >= run), week + 1, end)
    return end
