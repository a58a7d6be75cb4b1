"""The relapse mechanism: weekly opioid use, what drives it, and kratom's effect on it.

Each treatment week a patient is "positive or missing" (the CTN-0094 relapse definition counts
both) with a log-odds built from the published predictors, a latent frailty, the previous week's
status (use persists), and the expected craving and withdrawal that week. Kratom lowers craving
and withdrawal by an Emax function of the daily mitragynine dose while it is taken; stopping it
after a liver event removes that benefit. That is the trade-off the product serves: the dose that
eases relapse risk is the one that raises liver risk.

The true risk (``relapse_risk``) runs the run-length rule exactly as a dynamic programme over
weeks with state (current run of positive-or-missing weeks, kratom still taken), integrating the
frailty by Gauss-Hermite quadrature and the timing of a liver-driven stop by its exact
distribution from the liver oracle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from hepatorisk.cohorts.synthetic.liver import gauss_hermite_normal
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.cohorts.synthetic.population import Baseline

__all__ = ["RelapseCourse", "expected_scores", "relapse_risk", "simulate_relapse"]


def kratom_effect(base: Baseline, config: GeneratorConfig) -> np.ndarray:
    """Fraction of the Emax reached at each patient's daily mitragynine dose (0 for non-users)."""
    ed50 = config.relapse.kratom_benefit["ed50_mitragynine_mg"]
    mg = np.where(base.kratom_user, base.mitragynine_mg_day, 0.0)
    return mg / (mg + ed50)


def expected_scores(
    base: Baseline, week: int, on_kratom: np.ndarray | bool, config: GeneratorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Expected craving (0-100) and COWS withdrawal score in ``week`` of treatment."""
    r = config.relapse
    effect = kratom_effect(base, config) * on_kratom
    cc, wc = r.craving_course, r.withdrawal_course
    craving_course = cc["floor"] + (1 - cc["floor"]) * np.exp(-week / cc["decay_weeks"])
    cows_course = wc["floor"] + (1 - wc["floor"]) * np.exp(-week / wc["decay_weeks"])
    craving = base.craving_entry * craving_course * (1 - r.kratom_benefit["craving_emax"] * effect)
    cows = base.cows_entry * cows_course * (1 - r.kratom_benefit["withdrawal_emax"] * effect)
    return craving, cows


def _static_logit(base: Baseline, config: GeneratorConfig) -> np.ndarray:
    r = config.relapse
    c = r.weekly_logit
    arm = np.array([r.weekly_logit_by_arm[a] for a in base.arm], dtype=float)
    return (
        arm
        + c["injection"] * base.injection
        + c["per_10_heroin_days"] * base.heroin_days / 10
        + c["cocaine"] * base.cocaine
        + c["per_10_years_age"] * (base.age - 35) / 10
        + c["unstable_housing"] * base.unstable_housing
        + c["unemployed"] * base.unemployed
        + c["per_prior_treatment"] * base.prior_treatments
    )


def _week_logit(
    base: Baseline, static: np.ndarray, week: int, on: bool, config: GeneratorConfig
) -> np.ndarray:
    c = config.relapse.weekly_logit
    craving, cows = expected_scores(base, week, on, config)
    return (
        static
        + c["per_week"] * week
        + config.relapse.induction["logit"] * (week <= config.relapse.induction["weeks"])
        + c["per_20_craving"] * (craving - 50) / 20
        + c["per_5_cows"] * (cows - 8) / 5
    )


def relapse_risk(
    base: Baseline, stop_pmf: np.ndarray, config: GeneratorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """True P(relapse by the short horizon) and by the end of follow-up, given the record.

    ``stop_pmf[i, w-1]`` is P(patient i stops kratom after week w) for w = 1..weeks; mass not
    assigned means kratom is never stopped (always so for non-users).
    """
    r, fu = config.relapse, config.follow_up
    z, g = gauss_hermite_normal(config.oracle.quadrature_nodes)
    frailty = r.frailty_sd * z[None, :]
    static = _static_logit(base, config)
    run = fu.relapse_run_weeks
    n = base.n
    # state[i, q, run_length, on]; on=1 while kratom is taken (users start on it)
    state = np.zeros((n, len(z), run, 2))
    on0 = base.kratom_user.astype(int)
    state[np.arange(n), :, 0, on0] = 1.0
    relapsed = np.zeros((n, len(z)))
    stopped_before = np.zeros(n)
    short = np.zeros((n, len(z)))
    for week in range(1, fu.weeks + 1):
        new = np.zeros_like(state)
        for on in (0, 1):
            eta = _week_logit(base, static, week, bool(on), config)[:, None] + frailty
            if week == 1:  # the entry screen plays the previous week's part
                p_after = {0: expit(eta + r.persistence * base.uds_entry_positive[:, None])}
            else:
                p_after = {0: expit(eta), 1: expit(eta + r.persistence)}
            for k in range(run):
                p = p_after[min(k, 1)] if week > 1 else p_after[0]
                mass = state[:, :, k, on]
                new[:, :, 0, on] += mass * (1 - p)
                if k + 1 < run:
                    new[:, :, k + 1, on] += mass * p
                else:
                    relapsed += mass * p
        state = new
        hazard = np.divide(
            stop_pmf[:, week - 1],
            1.0 - stopped_before,
            out=np.zeros(n),
            where=stopped_before < 1.0,
        )
        stopped_before += stop_pmf[:, week - 1]
        moved = state[:, :, :, 1] * hazard[:, None, None]
        state[:, :, :, 1] -= moved
        state[:, :, :, 0] += moved
        if week == fu.relapse_short_horizon_weeks:
            short = relapsed.copy()
    return short @ g, relapsed @ g


@dataclass
class RelapseCourse:
    frailty: np.ndarray
    positive_or_missing: np.ndarray  # (patients, weeks) bool, week 1..weeks
    uds: np.ndarray  # (patients, weeks) 'positive' / 'negative' / 'missing'
    craving: np.ndarray  # (patients, weeks) recorded score
    cows: np.ndarray  # (patients, weeks) recorded score
    relapse_week: np.ndarray  # week the 4th consecutive positive-or-missing week ends (inf: none)


def simulate_relapse(
    rng: np.random.Generator, base: Baseline, on_kratom: np.ndarray, config: GeneratorConfig
) -> RelapseCourse:
    """Simulate weekly screens; ``on_kratom[:, w-1]`` says whether kratom is taken in week w."""
    r, fu = config.relapse, config.follow_up
    n, weeks = base.n, fu.weeks
    frailty = r.frailty_sd * rng.standard_normal(n)
    static = _static_logit(base, config)
    bad = np.zeros((n, weeks), dtype=bool)
    craving = np.zeros((n, weeks))
    cows = np.zeros((n, weeks))
    prev = base.uds_entry_positive.copy()
    noise = r.weekly_noise
    for week in range(1, weeks + 1):
        on = on_kratom[:, week - 1]
        eta = np.where(
            on,
            _week_logit(base, static, week, True, config),
            _week_logit(base, static, week, False, config),
        )
        now = rng.random(n) < expit(eta + frailty + r.persistence * prev)
        bad[:, week - 1] = now
        exp_craving, exp_cows = expected_scores(base, week, on, config)
        craving[:, week - 1] = (
            exp_craving
            + noise["craving_if_using"] * now
            + noise["craving_sd"] * rng.standard_normal(n)
        )
        cows[:, week - 1] = (
            exp_cows + noise["cows_if_using"] * now + noise["cows_sd"] * rng.standard_normal(n)
        )
        prev = now
    missing = bad & (rng.random((n, weeks)) < r.missing_share_of_positive_or_missing)
    uds = np.where(bad, np.where(missing, "missing", "positive"), "negative")
    return RelapseCourse(
        frailty=frailty,
        positive_or_missing=bad,
        uds=uds,
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
