"""Brute-force landmark truth for one patient: draw every latent variable of the generator's
mechanism from its prior given the baseline record, weight each draw by the exact likelihood of
the observed history (lab values as the highest of the baseline, injury and flare sources with
their own noise, bilirubin, symptoms, jaundice, dose reports, screens and staying in treatment),
and average the forward probability. Written independently of the oracle's quadratures, filters
and factorisations, so that the tests can compare the two."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit, log_ndtr
from scipy.stats import norm

from hepatorisk.clinical.ctcae import GRADE_2_ABOVE
from hepatorisk.cohorts.synthetic import liver, relapse
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.cohorts.synthetic.population import (
    Baseline,
    nafld_posterior,
    unknown_field_weights,
)

_ENZ = ("alt", "ast", "alp")
_COL = {"alt": "alt_u_l", "ast": "ast_u_l", "alp": "alp_u_l", "bilirubin": "bilirubin_mg_dl"}
_ULN = {"alt": "alt_uln_u_l", "ast": "ast_uln_u_l", "alp": "alp_uln_u_l"}


def _weighted(values: np.ndarray, logw: np.ndarray) -> tuple[float, float]:
    """Self-normalised mean and its standard error."""
    w = np.exp(logw - logw.max())
    w /= w.sum()
    mean = float((w * values).sum())
    se = float(np.sqrt((w**2 * (values - mean) ** 2).sum()))
    return mean, se


def relapse_bruteforce(
    patient: pd.DataFrame,
    visits: pd.DataFrame,
    config: GeneratorConfig,
    landmark: int,
    horizon: int,
    draws: int,
    rng: np.random.Generator,
) -> tuple[float, float, np.ndarray]:
    """(risk, SE, P(in treatment at week L + m), m = 0..H) for a patient who takes no kratom."""
    r = config.relapse
    base = Baseline(patient, config)
    assert not base.kratom_user[0]
    v = visits.set_index("week").sort_index()
    bad = ~((v["uds_opioid"] == "negative") & v["attended"].astype(bool)).to_numpy()
    combos, weights = unknown_field_weights(base, config)
    pick = rng.choice(len(combos), size=draws, p=weights[0])
    inj, unstable, unemployed = combos[pick].T
    c = r.weekly_logit
    record = c["injection"] * inj + c["unstable_housing"] * unstable + c["unemployed"] * unemployed
    frailty = r.frailty_sd * rng.standard_normal(draws)
    failed = rng.random(draws) < relapse._failure_probability(base, config)[0]
    known = relapse._static_logit(base, config, known_only=True)[0]
    propensity = frailty + record
    hazard = expit(
        np.where(
            failed,
            relapse._dropout_logit(base, True, config)[0],
            relapse._dropout_logit(base, False, config)[0],
        )
        + r.dropout_per_unit_propensity * propensity
    )

    def week_logit(week: int) -> np.ndarray:
        ok = known + relapse._week_logit(base, week, False, False, None, config)[0]
        ko = known + relapse._week_logit(base, week, True, False, None, config)[0]
        return np.where(failed, ko, ok) + record + frailty

    logw = landmark * np.log1p(-hazard)  # in treatment at every week up to L
    prev = np.full(draws, float(base.uds_entry_positive[0]))
    for week in range(1, landmark + 1):
        p = expit(week_logit(week) + r.persistence * prev)
        logw += np.log(p) if bad[week] else np.log1p(-p)
        prev = np.full(draws, float(bad[week]))
    run = np.zeros(draws, dtype=int)
    for week in range(1, landmark + 1):
        run = run + 1 if bad[week] else run * 0
    # forward: dropout (memoryless), weekly use, the run rule
    gone = np.zeros(draws, dtype=bool)
    event = np.zeros(draws, dtype=bool)
    for week in range(landmark + 1, landmark + horizon + 1):
        gone |= rng.random(draws) < hazard
        use = rng.random(draws) < expit(week_logit(week) + r.persistence * prev)
        now = use | gone
        run = np.where(now, run + 1, 0)
        event |= run >= config.follow_up.relapse_run_weeks
        prev = now.astype(float)
    risk, se = _weighted(event.astype(float), logw)
    enrol = np.array(
        [_weighted((1.0 - hazard) ** m, logw)[0] for m in range(horizon + 1)], dtype=float
    )
    return risk, se, enrol


def liver_bruteforce(
    patient: pd.DataFrame,
    visits: pd.DataFrame,
    config: GeneratorConfig,
    landmark: int,
    horizon: int,
    enrol: np.ndarray,
    draws: int,
    rng: np.random.Generator,
) -> tuple[float, float]:
    """(risk, SE) of a new-onset elevation at an attended draw in weeks L+1..L+H, given the
    history, for a patient with a recorded entry GGT; ``enrol[m]`` = P(in treatment at L + m)."""
    lv, fu, sym = config.liver, config.follow_up, config.symptoms
    sigma = lv.lab_variation_sd_log
    base = Baseline(patient, config)
    assert np.isfinite(base.ggt[0])
    v = visits.set_index("week").sort_index()
    attended = v["attended"].astype(bool).to_numpy()
    user = bool(base.kratom_user[0])
    thr = {t: np.log(GRADE_2_ABOVE[t]) for t in _ENZ}

    nafld = (rng.random(draws) < nafld_posterior(base, config)[0]).astype(int)
    z = rng.standard_normal(draws)
    eta = liver.reaction_log_hazard(base, base.mitragynine_mg_day, nafld, config)
    u = np.exp(eta + lv.susceptibility_sd * z) * user
    logw = -u * liver.latency_cdf(7.0 * base.use_weeks, config)[0] * user  # no reaction before
    worlds = liver.dose_worlds(config, None)
    world = rng.choice(len(worlds), size=draws, p=[w.probability for w in worlds])
    review = np.array([w.review_week for w in worlds])[world]
    shapes = np.stack([liver.cumulative_shape(base, w, None, config)[0] for w in worlds])
    survival = np.exp(-u[:, None] * shapes[world])
    draw_u = rng.random(draws)
    reacts = (survival[:, -1] < draw_u) & user
    onset = np.where(reacts, np.argmax(survival <= draw_u[:, None], axis=1), np.inf)
    symptomatic = rng.random(draws) < lv.symptomatic_stop_probability
    stop = np.where(reacts & symptomatic, onset, np.inf)
    flare = rng.random(draws) < liver.flare_probability(base, nafld, config)
    flare_week = np.maximum(np.ceil(rng.uniform(0.0, 7.0 * fu.weeks, draws) / 7.0), 1.0)

    def source(kind: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        inj = kind  # an Injury
        peak = inj.alt_peak_xuln.median * np.exp(
            inj.alt_peak_xuln.sd_log * rng.standard_normal(draws)
        )  # type: ignore[attr-defined]
        ratio = inj.r_ratio.median * np.exp(inj.r_ratio.sd_log * rng.standard_normal(draws))  # type: ignore[attr-defined]
        tie = lv.bilirubin_with_cholestasis
        alp = np.minimum(peak / ratio, lv.alp_peak_max_xuln)
        bili = np.minimum(
            1.0
            + tie["per_alp_xuln"]
            * np.maximum(alp - 1.0, 0.0)
            * np.exp(tie["sd_log"] * rng.standard_normal(draws)),
            lv.bilirubin_peak_max_xuln,
        )
        return peak, ratio, bili

    i_peak, i_r, i_bili = source(lv.kratom_injury)
    f_peak, f_r, f_bili = source(lv.background_flare)
    hl_i, hl_f = lv.kratom_injury.half_life_weeks, lv.background_flare.half_life_weeks

    def levels(week: float) -> dict[str, tuple[np.ndarray, ...]]:
        a_i = np.where(reacts, liver.level_at(i_peak, onset, stop, week, hl_i), 0.0)
        b_i = np.where(reacts, liver.level_at(i_bili, onset, stop, week, hl_i), 0.0)
        a_f = np.where(flare, liver.level_at(f_peak, flare_week, flare_week, week, hl_f), 0.0)
        b_f = np.where(flare, liver.level_at(f_bili, flare_week, flare_week, week, hl_f), 0.0)
        return {
            "injury": (*liver.enzyme_levels(a_i, i_r, config), b_i),
            "flare": (*liver.enzyme_levels(a_f, f_r, config), b_f),
        }

    ref = {t: max(float(patient[_COL[t]].iloc[0]), float(patient[_ULN[t]].iloc[0])) for t in _ENZ}
    b = {t: float(patient[_COL[t]].iloc[0]) / ref[t] for t in _ENZ}
    b0 = float(patient["bilirubin_mg_dl"].iloc[0])
    ref_b = max(b0, float(patient["bilirubin_uln_mg_dl"].iloc[0]))
    lab_weeks = np.array(fu.post_baseline_lab_weeks)
    for week in lab_weeks[lab_weeks <= landmark]:
        lev = levels(float(week))
        for e, t in enumerate(_ENZ):
            x = np.log(float(v.loc[week, _COL[t]]) / ref[t])
            logs = [np.full(draws, np.log(b[t]))]
            for name in ("injury", "flare"):
                with np.errstate(divide="ignore"):
                    logs.append(np.log(lev[name][e]))
            dens = np.zeros(draws)
            for s, ls in enumerate(logs):
                term = norm.pdf((x - ls) / sigma)
                for s2, ls2 in enumerate(logs):
                    if s2 != s:
                        term = term * norm.cdf((x - ls2) / sigma)
                dens += term
            logw += np.log(np.maximum(dens, 1e-300))
        top = np.maximum.reduce([np.full(draws, b0 / ref_b), lev["injury"][3], lev["flare"][3]])
        xb = np.log(float(v.loc[week, "bilirubin_mg_dl"]) / ref_b)
        logw += norm.logpdf((xb - np.log(top)) / sigma)
    for week in range(1, landmark + 1):
        if not attended[week]:
            continue
        lev = levels(float(week))
        injured = reacts & (onset <= week) & (i_peak > 1.0)
        for name in ("fatigue", "ruq_pain", "nausea"):
            p = np.where(injured, sym.with_injury[name], sym.background[name])
            logw += np.log(p) if bool(v.loc[week, name]) else np.log1p(-p)
        mg = np.maximum(b0, ref_b * np.where(reacts, lev["injury"][3], 0.0))
        seen_j = bool(v.loc[week, "jaundice"])
        logw += np.where((mg > sym.jaundice_bilirubin_mg_dl) == seen_j, 0.0, -np.inf)
        if user:
            report = float(v.loc[week, "kratom_dose_g"])
            on = week <= stop
            logw += np.where(on == (report > 0), 0.0, -np.inf)
            inc = (review > 0) & (week > review) & (stop >= review)
            y = np.log(report / base.dose_g[0]) if report > 0 else 0.0
            k = config.kratom
            logw += np.where(
                on,
                -((y - inc * np.log(k.dose_increase.factor)) ** 2)
                / (2 * k.weekly_report_sd_log**2),
                0.0,
            )
    # forward: P(no elevation at each future draw | latents), all sources independent
    future = lab_weeks[(lab_weeks > landmark) & (lab_weeks <= landmark + horizon)]
    quiet = np.ones(draws)
    cum = [np.ones(draws)]
    for week in future:
        lev = levels(float(week))
        for e, t in enumerate(_ENZ):
            quiet = quiet * np.exp(log_ndtr((thr[t] - np.log(b[t])) / sigma))
            for name in ("injury", "flare"):
                with np.errstate(divide="ignore"):
                    lvl = np.log(lev[name][e])
                quiet = quiet * np.exp(log_ndtr((thr[t] - lvl) / sigma))
        cum.append(quiet.copy())
    e = enrol[future - landmark]
    last = np.r_[1.0 - e[0], e[:-1] - e[1:], e[-1]]
    values = sum(last[j] * (1.0 - cum[j]) for j in range(len(cum)))
    return _weighted(np.asarray(values), logw)
