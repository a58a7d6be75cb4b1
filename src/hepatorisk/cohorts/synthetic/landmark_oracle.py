"""The landmark oracle: each patient's true risk of the next ``H`` weeks' event, given the baseline
record and everything observed up to the week-L visit (notes/landmark_contract.md).

The baseline oracles (``true_risks``) integrate the latent variables over their law given the
record. Here the law is the posterior given the history up to L as well, from the generator's own
mechanism, then the forward probability:

* **Relapse**: the weekly-use programme of ``relapse.py`` is run as a hidden-state filter over the
  observed weeks 1..L (every screen, the attendance that implies the patient is still in
  treatment, whether kratom is still taken where a visit shows it), for each induction outcome and
  each point of the frailty + unknown-field grid; its likelihood (times that of the craving and
  withdrawal scores, which reveal a failed XR-naltrexone induction) weights the forward programme
  that starts from the current run of positive-or-missing weeks. For a liver-at-risk user still
  taking kratom at L, the week it stops follows the liver posterior (a symptomatic reaction, or a
  detected elevation with the generator's stop probability, as the baseline oracle's stop law).
* **Liver**: the latent fatty liver, susceptibility, dose course, kratom reaction (onset week,
  symptomatic or not, peak, R ratio, bilirubin spread) and background flare (week, peak, R,
  spread) are weighted by the likelihood of every lab value drawn up to L (ALT, AST, ALP as the
  highest of the baseline, injury and flare sources, each with its own noise; bilirubin; GGT for
  fatty liver when the entry GGT is missing), the symptoms and jaundice the injury causes, and the
  dose reports (a stop reveals a symptomatic reaction, a 1.5x report a dose increase). States with
  no source active before L use the baseline oracle's exact detection tables for the future; a
  source active before L is integrated on a uniform grid of its log peak and log R (trapezoid)
  and a Gauss-Hermite grid of its bilirubin spread. Dropout comes from the relapse posterior
  (labs are drawn only in treatment).

Approximations, each measured in tests/synthetic/test_landmark_oracle.py against a
likelihood-weighted brute-force re-simulation (tests/synthetic/bruteforce_landmark.py) and a
finer grid: when an injury and a flare were both active before L, each reading is credited to one
source at a time (exact when the same source is the highest at every reading, or neither is
above the baseline); a state whose likelihood bound times prior is below 1e-6 of the no-source
state is skipped (a rigorous bound on the posterior mass left out). The relapse side uses the
baseline stop law for the week kratom stopped between a visit showing it taken and one showing it
stopped, and for the future of users no longer at liver risk (an elevation already detected, or
prevalent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from scipy.special import log_ndtr, ndtr

from hepatorisk.clinical.ctcae import GRADE_2_ABOVE
from hepatorisk.clinical.liver_events import ENZYMES
from hepatorisk.cohorts.landmarks import landmark_labels, validate_landmarks
from hepatorisk.cohorts.synthetic import liver, relapse
from hepatorisk.cohorts.synthetic.generate import load_cohort
from hepatorisk.cohorts.synthetic.params import GeneratorConfig, Injury
from hepatorisk.cohorts.synthetic.population import Baseline, _lab_log_mean

__all__ = ["Grid", "landmark_truth", "landmark_truth_tables"]

_THRESHOLD = np.log([GRADE_2_ABOVE[t] for t in ENZYMES])
# ALP levels (log multiples of the reference) at which an ALP value's likelihood is tabulated
_ALP_STEP = 0.005
_ALP_GRID = np.arange(-7.0, np.log(16.0) + _ALP_STEP, _ALP_STEP)
_PRUNE = 1e-6  # skip an active-source state whose posterior weight is surely below this


@dataclass(frozen=True)
class Grid:
    """Quadrature of an active source's log peak and log R (uniform trapezoid in SD units over
    +/-``span``) and of its bilirubin spread (Gauss-Hermite); the tests refine it."""

    peak_step: float = 0.125
    r_step: float = 0.25
    span: float = 6.0
    spread_nodes: int = 24
    c_points: int = 64


def landmark_truth(
    folder: Path,
    landmarks: Sequence[int] = (0, 2, 4, 8, 12),
    horizon_weeks: int = 12,
) -> pd.DataFrame:
    """True P(event in weeks L+1..L+H | baseline record, history up to week L) per patient and
    landmark, under the cohort's own generator configuration.

    Columns: patient_id, landmark_week, p_liver_next_true (NaN where not liver_at_risk),
    p_relapse_next_true (NaN where not relapse_at_risk)."""
    cohort = load_cohort(Path(folder))
    return landmark_truth_tables(
        cohort.patients, cohort.visits, cohort.config, landmarks, horizon_weeks
    )


def landmark_truth_tables(
    patients: pd.DataFrame,
    visits: pd.DataFrame,
    config: GeneratorConfig,
    landmarks: Sequence[int] = (0, 2, 4, 8, 12),
    horizon_weeks: int = 12,
    grid: Grid | None = None,
) -> pd.DataFrame:
    """``landmark_truth`` on tables in memory (the tests pass edited histories and finer grids)."""
    weeks_l = validate_landmarks(landmarks, horizon_weeks)
    fu = config.follow_up
    if max(weeks_l) + horizon_weeks > fu.weeks:
        raise ValueError(
            f"landmark + horizon_weeks must be <= the cohort's follow-up ({fu.weeks} weeks), got "
            f"{max(weeks_l)} + {horizon_weeks}"
        )
    grid = grid or Grid()
    patients = patients.reset_index(drop=True)
    labels = landmark_labels(patients, visits, weeks_l, horizon_weeks)
    hist = _History(patients, visits, config)
    base = Baseline(patients, config)
    oracle = liver.LiverOracle(base, config)
    rel = _RelapseModel(base, config, oracle.stop_survival())
    prior = _LiverPrior(base, config)
    parts = []
    for lw in weeks_l:
        lab = labels[labels["landmark_week"] == lw]
        ids = lab["patient_id"].astype(str).to_numpy()
        rows = pd.Index(hist.ids).get_indexer(pd.Index(ids))
        attended = hist.attended[:, lw] if lw > 0 else np.ones(base.n, dtype=bool)
        cand = np.flatnonzero(attended)
        risk, enrol = rel.landmark(hist, lw, horizon_weeks, cand)
        p_rel = np.full(base.n, np.nan)
        p_rel[cand] = risk
        liver_rows = rows[lab["liver_at_risk"].to_numpy(dtype=bool)]
        position = np.full(base.n, -1)
        position[cand] = np.arange(len(cand))
        p_liv = np.full(base.n, np.nan)
        p_liv[liver_rows], on_after = _liver_landmark(
            prior,
            hist,
            base,
            config,
            lw,
            horizon_weeks,
            liver_rows,
            enrol[position[liver_rows]],
            grid,
        )
        # users still taking kratom at L: the week it stops follows the liver posterior
        on = base.kratom_user[liver_rows] & (hist.on[liver_rows, lw] == 1) & (lw > 0)
        if on.any():
            rows_on = liver_rows[on]
            stop_h = rel.stop_h.copy()
            s = np.c_[np.ones(on.sum()), on_after[on]]
            with np.errstate(divide="ignore", invalid="ignore"):
                h = np.where(s[:, :-1] > 0, 1.0 - s[:, 1:] / s[:, :-1], 1.0)
            stop_h[rows_on, lw - 1 : lw + horizon_weeks] = np.clip(h, 0.0, 1.0)
            p_rel[rows_on] = rel.landmark(hist, lw, horizon_weeks, rows_on, stop_h)[0]
        relapse_at = lab["relapse_at_risk"].to_numpy(dtype=bool)
        liver_at = lab["liver_at_risk"].to_numpy(dtype=bool)
        parts.append(
            pd.DataFrame(
                {
                    "patient_id": ids,
                    "landmark_week": np.full(len(ids), lw, dtype=int),
                    "p_liver_next_true": np.where(liver_at, p_liv[rows], np.nan),
                    "p_relapse_next_true": np.where(relapse_at, p_rel[rows], np.nan),
                }
            )
        )
    out = pd.concat(parts, ignore_index=True)
    out["patient_id"] = out["patient_id"].astype("string")
    return out


class _History:
    """The visits table as (patients, weeks 0..W) arrays, in the patients table's order."""

    def __init__(self, patients: pd.DataFrame, visits: pd.DataFrame, config: GeneratorConfig):
        w = config.follow_up.weeks
        self.ids = patients["patient_id"].astype(str).to_numpy()
        n = len(self.ids)
        row = pd.Index(self.ids).get_indexer(pd.Index(visits["patient_id"].astype(str)))
        week = visits["week"].to_numpy(dtype=int)
        keep = (row >= 0) & (week >= 0) & (week <= w)
        row, week, v = row[keep], week[keep], visits[keep]

        def grid(column: str, fill: float = np.nan) -> np.ndarray:
            out = np.full((n, w + 1), fill)
            values = pd.to_numeric(v[column], errors="coerce").astype("Float64")
            out[row, week] = values.to_numpy(dtype=float, na_value=np.nan)
            return out

        self.attended = np.zeros((n, w + 1), dtype=bool)
        self.attended[row, week] = v["attended"].astype("boolean").fillna(False).to_numpy(bool)
        uds = np.full((n, w + 1), "missing", dtype=object)
        uds[row, week] = v["uds_opioid"].astype("string").fillna("missing").to_numpy(object)
        self.positive = uds == "positive"
        self.bad = ~((uds == "negative") & self.attended)
        self.dose = grid("kratom_dose_g")
        self.cows = grid("cows")
        self.craving = grid("craving")
        self.symptoms = {s: grid(s) for s in ("fatigue", "ruq_pain", "nausea")}
        self.jaundice = grid("jaundice")
        self.labs = {
            k: grid(c)
            for k, c in {
                "alt": "alt_u_l",
                "ast": "ast_u_l",
                "alp": "alp_u_l",
                "bilirubin": "bilirubin_mg_dl",
                "ggt": "ggt_u_l",
            }.items()
        }
        # kratom taken that week, as a visit shows it: -1 unknown, 0 no, 1 yes
        self.on = np.where(self.attended & np.isfinite(self.dose), (self.dose > 0).astype(int), -1)


# ----------------------------------------------------------------------------------------------
# relapse


class _RelapseModel:
    """The inputs of ``relapse.relapse_risk``'s programme, kept for every landmark."""

    def __init__(self, base: Baseline, config: GeneratorConfig, stop_survival: np.ndarray):
        fu = config.follow_up
        self.base, self.config = base, config
        self.offsets, self.offset_w = relapse._offsets(base, config)
        static = relapse._static_logit(base, config, known_only=True)
        eta = np.empty((base.n, 2, fu.weeks, 2))
        for f, failed in enumerate((False, True)):
            for on in (0, 1):
                for week in range(1, fu.weeks + 1):
                    eta[:, f, week - 1, on] = static + relapse._week_logit(
                        base, week, failed, bool(on), None, config
                    )
        self.eta = eta
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = 1.0 - stop_survival[:, 1:] / stop_survival[:, :-1]
        self.stop_h = np.ascontiguousarray(np.where(stop_survival[:, :-1] > 0, hazard, 1.0))
        self.drop = np.c_[
            relapse._dropout_logit(base, False, config), relapse._dropout_logit(base, True, config)
        ]
        self.p_fail = relapse._failure_probability(base, config)
        self.active = [relapse.kratom_active(base, f, None, config) for f in (False, True)]

    def _scores_ll(self, hist: _History, landmark: int) -> np.ndarray:
        """log P(recorded craving and COWS in weeks 1..L | induction outcome), (patients, 2):
        the scores depend on it only through kratom's benefit under XR-naltrexone."""
        noise = self.config.relapse.weekly_noise
        out = np.zeros((self.base.n, 2))
        for f in (0, 1):
            for week in range(1, landmark + 1):
                seen = hist.attended[:, week]
                on = hist.on[:, week] == 1
                use = hist.positive[:, week].astype(float)
                craving, cows = relapse.expected_scores(
                    self.base, week, self.active[f], on, self.config
                )
                for value, mean, sd, top in (
                    (
                        hist.craving[:, week],
                        craving + noise["craving_if_using"] * use,
                        noise["craving_sd"],
                        100.0,
                    ),
                    (
                        hist.cows[:, week],
                        cows + noise["cows_if_using"] * use,
                        noise["cows_sd"],
                        48.0,
                    ),
                ):
                    ok = seen & np.isfinite(value)
                    out[:, f] += np.where(ok, _rounded_log_prob(value, mean, sd, top), 0.0)
        return out - out[:, :1]

    def landmark(
        self,
        hist: _History,
        landmark: int,
        horizon: int,
        rows: np.ndarray,
        stop_h: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Relapse risk in the next ``horizon`` weeks and P(in treatment at week L + m), m =
        0..horizon, for ``rows`` (patients who attended week L, or everyone at L = 0)."""
        r, fu = self.config.relapse, self.config.follow_up
        extra = self._scores_ll(hist, landmark)
        users = self.base.kratom_user
        risk, enrol = _landmark_programme(
            self.eta,
            self.p_fail,
            self.offsets,
            self.offset_w,
            extra,
            r.persistence,
            self.base.uds_entry_positive.astype(np.float64),
            users,
            self.stop_h if stop_h is None else stop_h,
            self.drop,
            r.dropout_per_unit_propensity,
            fu.relapse_run_weeks,
            landmark,
            horizon,
            hist.bad.astype(np.int8),
            hist.on.astype(np.int8),
            rows.astype(np.int64),
        )
        return risk, enrol


def _rounded_log_prob(value: np.ndarray, mean: np.ndarray, sd: float, top: float) -> np.ndarray:
    """log P(a normal score, clipped to [0, top] and rounded, reads ``value``)."""
    v = np.nan_to_num(value)
    hi = np.where(v >= top, np.inf, v + 0.5)
    lo = np.where(v <= 0, -np.inf, v - 0.5)
    p = ndtr((hi - mean) / sd) - ndtr((lo - mean) / sd)
    out: np.ndarray = np.log(np.maximum(p, 1e-300))
    return out


@numba.njit(cache=True)
def _expit(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@numba.njit(cache=True, parallel=True)
def _landmark_programme(
    eta: np.ndarray,
    p_fail: np.ndarray,
    offsets: np.ndarray,
    offset_w: np.ndarray,
    extra_ll: np.ndarray,
    persistence: float,
    entry_positive: np.ndarray,
    user: np.ndarray,
    stop_h: np.ndarray,
    drop_logit: np.ndarray,
    drop_gamma: float,
    run: int,
    landmark: int,
    horizon: int,
    bad: np.ndarray,
    on_obs: np.ndarray,
    rows: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    m = rows.shape[0]
    n_off = offsets.shape[0]
    risk = np.zeros(m)
    enrol = np.zeros((m, horizon + 1))
    end_week = landmark + horizon
    for ii in numba.prange(m):
        i = rows[ii]
        k0 = 0
        for w in range(1, landmark + 1):
            k0 = k0 + 1 if bad[i, w] else 0
        relapsed = k0 >= run
        first_on = 1 if user[i] else 0
        logw = np.full((2, n_off), -np.inf)
        rel = np.zeros((2, n_off))
        stay = np.zeros((2, n_off))
        state = np.zeros((run, 2))
        new = np.zeros((run, 2))
        for f in range(2):
            wf = p_fail[i] if f == 1 else 1.0 - p_fail[i]
            if wf <= 0.0:
                continue
            for j in range(n_off):
                wj = offset_w[i, j]
                if wj <= 0.0:
                    continue
                d = _expit(drop_logit[i, f] + drop_gamma * offsets[j])
                a = np.zeros(2)
                a[first_on] = 1.0
                ll = np.log(wf) + np.log(wj) + extra_ll[i, f]
                dead = False
                # the history: in treatment every week up to L, the screens as observed
                for w in range(1, landmark + 1):
                    ll += np.log1p(-d)
                    prev = entry_positive[i] if w == 1 else float(bad[i, w - 1])
                    for on in range(2):
                        if a[on] > 0.0:
                            p = _expit(eta[i, f, w - 1, on] + offsets[j] + persistence * prev)
                            a[on] *= p if bad[i, w] else 1.0 - p
                    if on_obs[i, w] == 0:
                        a[1] = 0.0
                    elif on_obs[i, w] == 1:
                        a[0] = 0.0
                    h = stop_h[i, w - 1]
                    moved = a[1] * h
                    a[1] -= moved
                    a[0] += moved
                    s = a[0] + a[1]
                    if s <= 0.0:
                        dead = True
                        break
                    ll += np.log(s)
                    a /= s
                if dead:
                    continue
                logw[f, j] = ll
                stay[f, j] = 1.0 - d
                if relapsed:
                    continue
                # the future: the run-length programme from the current run
                state[:, :] = 0.0
                state[k0, 0] = a[0]
                state[k0, 1] = a[1]
                total = 0.0
                for week in range(landmark + 1, end_week + 1):
                    for k in range(run):
                        gone = (state[k, 0] + state[k, 1]) * d
                        state[k, 0] *= 1.0 - d
                        state[k, 1] *= 1.0 - d
                        if week + run - 1 - k <= end_week:
                            total += gone
                    new[:, :] = 0.0
                    for on in range(2):
                        x = eta[i, f, week - 1, on] + offsets[j]
                        if week == 1:
                            p0 = _expit(x + persistence * entry_positive[i])
                            p1 = p0
                        else:
                            p0 = _expit(x)
                            p1 = _expit(x + persistence)
                        for k in range(run):
                            mass = state[k, on]
                            if mass == 0.0:
                                continue
                            p = p1 if k > 0 else p0
                            new[0, on] += mass * (1.0 - p)
                            if k + 1 < run:
                                new[k + 1, on] += mass * p
                            else:
                                total += mass * p
                    h = stop_h[i, week - 1]
                    for k in range(run):
                        moved = new[k, 1] * h
                        state[k, 1] = new[k, 1] - moved
                        state[k, 0] = new[k, 0] + moved
                rel[f, j] = total
        top = -np.inf
        for f in range(2):
            for j in range(n_off):
                top = max(top, logw[f, j])
        norm = 0.0
        acc = 0.0
        for f in range(2):
            for j in range(n_off):
                if logw[f, j] == -np.inf:
                    continue
                wt = np.exp(logw[f, j] - top)
                norm += wt
                acc += wt * rel[f, j]
                for mm in range(horizon + 1):
                    enrol[ii, mm] += wt * stay[f, j] ** mm
        risk[ii] = np.nan if relapsed else acc / norm
        for mm in range(horizon + 1):
            enrol[ii, mm] /= norm
    return risk, enrol


# ----------------------------------------------------------------------------------------------
# liver


class _LiverPrior:
    """The baseline oracle's prior pieces, kept per dose course: P(fatty liver) mass, the onset
    pmf of a reaction per world, P(flare), and the detection tables."""

    def __init__(self, base: Baseline, config: GeneratorConfig) -> None:
        from hepatorisk.cohorts.synthetic.population import nafld_posterior

        lv, fu = config.liver, config.follow_up
        n, weeks = base.n, fu.weeks
        z, g = liver.gauss_hermite_normal(config.oracle.quadrature_nodes)
        p_nafld = nafld_posterior(base, config)
        pre = liver.latency_cdf(7.0 * base.use_weeks, config) * base.kratom_user
        joint = []
        for nafld, prior in ((0, 1.0 - p_nafld), (1, p_nafld)):
            eta0 = liver.reaction_log_hazard(base, base.mitragynine_mg_day, nafld, config)
            u0 = (
                np.exp(eta0[:, None] + lv.susceptibility_sd * z[None, :])
                * base.kratom_user[:, None]
            )
            joint.append(prior[:, None] * g[None, :] * np.exp(-u0 * pre[:, None]))
        total = joint[0].sum(axis=1) + joint[1].sum(axis=1)
        self.worlds = liver.dose_worlds(config, None)
        self.world_p = np.array([w.probability for w in self.worlds])
        self.review = np.array([w.review_week for w in self.worlds])
        self.mass = np.zeros((n, 2))
        self.pmf = np.zeros((n, 2, len(self.worlds), weeks + 1))  # [:, n, r, o], o = 1..W
        self.never = np.zeros((n, 2, len(self.worlds)))
        users = base.kratom_user
        rows = np.flatnonzero(users)
        sub = liver._rows(base, users)
        shapes = [liver.cumulative_shape(sub, w, None, config) for w in self.worlds]
        self.p_flare = np.zeros((n, 2))
        for nafld in (0, 1):
            weights = joint[nafld] / total[:, None]
            self.mass[:, nafld] = weights.sum(axis=1)
            self.never[:, nafld, :] = self.mass[:, nafld, None]
            self.p_flare[:, nafld] = liver.flare_probability(base, nafld, config)
            if len(rows):
                eta = liver.reaction_log_hazard(base, base.mitragynine_mg_day, nafld, config)
                u = np.exp(eta[rows, None] + lv.susceptibility_sd * z[None, :])
                for r, shape in enumerate(shapes):
                    survival = np.exp(-u[:, :, None] * shape[:, None, :])
                    onset = survival[:, :, :-1] - survival[:, :, 1:]
                    self.pmf[rows, nafld, r, 1:] = np.einsum("iq,iqw->iw", weights[rows], onset)
                    self.never[rows, nafld, r] = np.einsum(
                        "iq,iq->i", weights[rows], survival[:, :, -1]
                    )
        self.tables = liver.detection_tables(config)
        self.flare_tables = flare_tables(config)


def flare_tables(config: GeneratorConfig) -> np.ndarray:
    """P(a flare beginning in week w is detected by each post-baseline lab, all drawn), (W + 1,
    labs), row 0 unused: ``liver.detection_tables``'s flare column before averaging over w."""
    return _flare_tables(config.model_dump_json())


@lru_cache(maxsize=4)
def _flare_tables(config_json: str) -> np.ndarray:
    config = GeneratorConfig.model_validate_json(config_json)
    fu = config.follow_up
    labs = np.array(fu.post_baseline_lab_weeks, dtype=float)
    out = np.zeros((fu.weeks + 1, len(labs)))
    for w in range(1, fu.weeks + 1):
        out[w] = _detected(config, config.liver.background_flare, float(w), float(w), labs)
    return out


def _detected(
    config: GeneratorConfig, injury: Injury, onset: float, stop: float, labs: np.ndarray
) -> np.ndarray:
    """As ``liver._detection_tables``: P(detected by each lab) for one onset and stop."""
    sigma = config.liver.lab_variation_sd_log
    zp, gp = _gauss_hermite(config.oracle.injury_grid)
    zr, gr = _gauss_hermite(config.oracle.r_grid)
    weight = gp[:, None] * gr[None, :]
    peaks = injury.alt_peak_xuln.median * np.exp(injury.alt_peak_xuln.sd_log * zp)
    ratios = injury.r_ratio.median * np.exp(injury.r_ratio.sd_log * zr)
    alt = liver.level_at(
        peaks[:, None, None], onset, stop, labs[None, None, :], injury.half_life_weeks
    )
    levels = liver.enzyme_levels(alt, ratios[None, :, None], config)
    quiet = np.where(alt > 0, liver._quiet(levels, sigma), 1.0)
    none_yet = np.cumprod(quiet, axis=2)
    result: np.ndarray = 1.0 - np.einsum("mr,mrk->k", weight, none_yet)
    return result


@lru_cache(maxsize=16)
def _gauss_hermite(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    return liver.gauss_hermite_normal(nodes)


def _log_phi_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(phi(a) / phi(b)) for standard normal densities."""
    out: np.ndarray = 0.5 * (b * b - a * a)
    return out


@dataclass
class _Draws:
    """The observed lab values of the at-risk rows at past draws, on the reference scale."""

    x: dict[str, np.ndarray]  # enzyme -> (m, K) log(value / reference)
    b: dict[str, np.ndarray]  # enzyme -> (m,) log(baseline / reference)
    xb: np.ndarray  # (m, K) log(bilirubin / reference)
    bb: np.ndarray  # (m,) log(baseline bilirubin / reference)
    ref_b: np.ndarray  # (m,) bilirubin reference (mg/dL)
    b0: np.ndarray  # (m,) baseline bilirubin (mg/dL)
    weeks: np.ndarray  # (K,) lab weeks of the past draws


def _liver_landmark(
    prior: _LiverPrior,
    hist: _History,
    base: Baseline,
    config: GeneratorConfig,
    landmark: int,
    horizon: int,
    rows: np.ndarray,
    enrol: np.ndarray,
    grid: Grid,
) -> tuple[np.ndarray, np.ndarray]:
    """P(new-onset elevation at an attended draw in weeks L+1..L+H | history) for ``rows``, and
    P(kratom still taken after week L + u | history), u = 0..H."""
    m = len(rows)
    if m == 0:
        return np.zeros(0), np.ones((0, horizon + 1))
    lv = config.liver
    sigma = lv.lab_variation_sd_log
    lab_weeks = np.array(config.follow_up.post_baseline_lab_weeks)
    past = np.flatnonzero(lab_weeks <= landmark)
    future = np.flatnonzero((lab_weeks > landmark) & (lab_weeks <= landmark + horizon))
    n_fut = len(future)
    if n_fut == 0:
        return np.zeros(m), np.ones((m, horizon + 1))

    refs = {
        "alt": np.maximum(base.alt, base.alt_uln),
        "ast": np.maximum(base.ast, base.ast_uln),
        "alp": np.maximum(base.alp, base.alp_uln),
    }
    values = {"alt": base.alt, "ast": base.ast, "alp": base.alp}
    b0 = hist.labs["bilirubin"][:, 0]
    uln_b = np.full(base.n, config.labs.uln["bilirubin"])
    ref_b = np.maximum(b0, uln_b)
    draws = _Draws(
        x={
            t: np.log(hist.labs[t][rows][:, lab_weeks[past]] / refs[t][rows, None]) for t in ENZYMES
        },
        b={t: np.log(values[t][rows] / refs[t][rows]) for t in ENZYMES},
        xb=np.log(hist.labs["bilirubin"][rows][:, lab_weeks[past]] / ref_b[rows, None]),
        bb=np.log(b0[rows] / ref_b[rows]),
        ref_b=ref_b[rows],
        b0=b0[rows],
        weeks=lab_weeks[past],
    )

    # baseline source: quiet at each future draw (deterministic)
    qb = np.ones(m)
    for t, thr in zip(ENZYMES, _THRESHOLD, strict=True):
        qb = qb * ndtr((thr - draws.b[t]) / sigma)
    q_base = qb[:, None] ** np.arange(n_fut + 1)[None, :]

    injury, steps = _injury_factor(
        prior, hist, base, config, landmark, rows, draws, future, horizon, grid
    )
    flare = _flare_factor(prior, config, landmark, rows, draws, future, grid)
    ggt = _ggt_factor(hist, base, config, landmark, rows)
    # (injury inactive, active, active but hidden) x (flare ...): a history explained by one
    # source has the other's readings below it (exact when one source is the highest at every
    # reading, or neither is)
    a, b_full, b_hid, c_full, c_hid = injury
    f0, f_full, f_hid = flare

    def combine(a: np.ndarray, i_full: np.ndarray, i_hid: np.ndarray, j: int | slice) -> np.ndarray:
        states = (
            (a + i_full[..., j]) * f0[..., j]
            + a * f_full[..., j]
            + i_full[..., j] * f_hid[..., j]
            + i_hid[..., j] * f_full[..., j]
            - i_hid[..., j] * f_hid[..., j]
        )
        out: np.ndarray = (ggt[:, :, None] * states.reshape(m, 2, -1)).sum(axis=1)
        return out

    joint = combine(a, b_full + c_full, b_hid + c_hid, slice(None))  # (m, J + 1)
    quiet = q_base * joint / joint[:, :1]

    # P(kratom still taken after week L + u | history), as the baseline oracle's stop law:
    # a symptomatic reaction stops it, a detected elevation stops it with stop_on_detection
    fut_weeks = lab_weeks[future]
    survival = np.ones((m, horizon + 1))
    for u in range(horizon + 1):
        j = int(np.searchsorted(fut_weeks, landmark + u, side="right"))
        undetected = combine(steps[0][..., u], b_full, b_hid, j)[:, 0] * q_base[:, j]
        unstopped = combine(steps[1][..., u], b_full, b_hid, 0)[:, 0]
        stop_p = config.liver.stop_on_detection_probability
        survival[:, u] = (undetected + (1 - stop_p) * (unstopped - undetected)) / joint[:, 0]

    # the last future draw the patient is still in treatment for
    e = enrol[:, lab_weeks[future] - landmark]  # (m, J)
    last = np.c_[1.0 - e[:, :1], e[:, :-1] - e[:, 1:], e[:, -1:]]  # P(last = 0..J)
    risk: np.ndarray = (last * (1.0 - quiet)).sum(axis=1)
    return risk, survival


def _dose_loglik(
    hist: _History,
    base: Baseline,
    config: GeneratorConfig,
    landmark: int,
    rows: np.ndarray,
    review: np.ndarray,
) -> np.ndarray:
    """log P(dose reports in weeks 1..L | world r, kratom stopped after week s), relative to no
    increase: (m, worlds, s = 0..L+1) where s = L+1 means still taken at L; -inf if impossible."""
    k = config.kratom
    m = len(rows)
    out = np.zeros((m, len(review), landmark + 2))
    sd = k.weekly_report_sd_log
    inc = np.log(k.dose_increase.factor)
    for w in range(1, landmark + 1):
        on = hist.on[rows, w]
        with np.errstate(divide="ignore", invalid="ignore"):
            y = np.log(hist.dose[rows, w] / base.dose_g[rows])
            gain = np.where(on == 1, -((y - inc) ** 2 - y**2) / (2 * sd * sd), 0.0)
        for s in range(landmark + 2):
            taken = w <= s  # kratom still taken in week w
            bad = ((on == 1) & ~taken) | ((on == 0) & taken)
            for r, rv in enumerate(review):
                increased = (rv > 0) & (w > rv) & (s >= rv) & taken
                out[:, r, s] += np.where(bad, -np.inf, np.where(increased, gain, 0.0))
    return out


def _symptom_loglik(
    hist: _History, config: GeneratorConfig, landmark: int, rows: np.ndarray
) -> np.ndarray:
    """log-ratio of the symptoms seen in weeks o..L with an injury vs without, (m, o = 0..L+1)."""
    sym = config.symptoms
    m = len(rows)
    per_week = np.zeros((m, landmark + 2))
    for w in range(1, landmark + 1):
        for name in ("fatigue", "ruq_pain", "nausea"):
            y = hist.symptoms[name][rows, w]
            pi, pb = sym.with_injury[name], sym.background[name]
            lr = np.where(y == 1, np.log(pi / pb), np.log((1 - pi) / (1 - pb)))
            per_week[:, w] += np.where(np.isfinite(y), lr, 0.0)
    # suffix sums: weeks o..L
    out: np.ndarray = np.cumsum(per_week[:, ::-1], axis=1)[:, ::-1]
    return out


def _injury_factor(
    prior: _LiverPrior,
    hist: _History,
    base: Baseline,
    config: GeneratorConfig,
    landmark: int,
    rows: np.ndarray,
    draws: _Draws,
    future: np.ndarray,
    horizon: int,
    grid: Grid,
) -> tuple[np.ndarray, np.ndarray]:
    """sum over the kratom-reaction states of prior x likelihood x P(no injury detection through
    future draw j), per fatty-liver value: (5, m, 2, J + 1) for no reaction by L, a reaction
    not symptomatic (full likelihood, hidden-readings likelihood), symptomatic (the same); and
    the no-reaction state week by week for the law of the week kratom stops."""
    lv = config.liver
    lab_weeks = np.array(config.follow_up.post_baseline_lab_weeks)
    m, n_fut = len(rows), len(future)
    s_p = lv.symptomatic_stop_probability
    out = np.zeros((5, m, 2, n_fut + 1))  # A, B full, B hidden, C full, C hidden
    steps = np.zeros((2, m, 2, horizon + 1))  # A without a symptomatic stop by week L + u:
    # (0) and no injury detection by then, (1) whatever the detection
    users = base.kratom_user[rows]
    out[0][~users] = prior.mass[rows][~users][:, :, None]
    steps[:, ~users] = prior.mass[rows][~users][None, :, :, None]
    if not users.any():
        return out, steps
    pmf = prior.pmf[rows]  # (m, 2, R, W + 1)
    never = prior.never[rows]  # (m, 2, R)
    wp = prior.world_p
    dose_ll = _dose_loglik(hist, base, config, landmark, rows, prior.review)  # (m, R, L + 2)
    sym_ll = _symptom_loglik(hist, config, landmark, rows)  # (m, L + 2)
    jaundice = hist.jaundice[rows]
    seen = hist.attended[rows]
    b0 = draws.b0
    no_injury_j = _jaundice_ok(jaundice, seen, 1, landmark + 1, b0 > 3.0)  # weeks 1..L

    # state A: no reaction by L (kratom still taken at L)
    still = np.exp(dose_ll[:, :, landmark + 1])  # (m, R)
    t = prior.tables.injury  # (2, W + 1, K)
    mix = s_p * t[1] + (1 - s_p) * t[0]  # (W + 1, K)
    cum = np.c_[np.zeros((mix.shape[0], 1)), mix[:, future]]  # (W + 1, J + 1): detected by j
    later = np.arange(pmf.shape[-1]) > landmark
    quiet_a = np.einsum("inrw,wj->inrj", pmf * later, 1.0 - cum) + never[..., None]
    state_a = np.einsum("r,ir,inrj->inj", wp, still, quiet_a) * no_injury_j[:, None, None]
    out[0][users] = state_a[users]
    # the same, week by week, for the law of the week kratom stops
    weeks_all = np.arange(pmf.shape[-1])
    fut_weeks = lab_weeks[future]
    for u in range(horizon + 1):
        v = landmark + u
        j = int(np.searchsorted(fut_weeks, v, side="right"))
        sym_by = (weeks_all <= v) & later
        det0 = np.c_[np.zeros((t.shape[1], 1)), t[0][:, future]][:, j]  # (W + 1,)
        quiet_x = np.where(later, s_p * ~sym_by + (1 - s_p) * (1.0 - det0), 0.0)
        keep_y = np.where(later, 1.0 - s_p * sym_by, 0.0)
        for h, factor in enumerate((quiet_x, keep_y)):
            per = np.einsum("inrw,w->inr", pmf, factor) + never
            steps[h, users, :, u] = (
                np.einsum("r,ir,inr->in", wp, still, per) * no_injury_j[:, None]
            )[users]

    # states B (not symptomatic, plateau) and C (symptomatic, stopped after onset): onset o <= L
    pairs = []
    for o in range(1, landmark + 1):
        onset_w = np.where(draws.weeks >= o)[0]
        # B: still taken at L; C: stopped after week o
        for symptomatic, stop in ((False, landmark + 1), (True, o)):
            dl = np.exp(dose_ll[:, :, stop])  # (m, R)
            weight = np.einsum("r,ir,inr->in", wp, dl, pmf[:, :, :, o])
            weight *= s_p if symptomatic else 1 - s_p
            keep = users & (weight.max(axis=1) > 0)
            if keep.any():
                pairs.append((o, symptomatic, onset_w, weight, keep))
    if pairs:
        reference = np.maximum(state_a[:, :, 0].sum(axis=1), 1e-300)
        active = _active_injury(
            pairs, reference, hist, draws, sym_ll, jaundice, seen, config, landmark, future, grid
        )
        out[1:] += active.reshape(4, m, 2, n_fut + 1)
    return out, steps


def _jaundice_ok(
    jaundice: np.ndarray, seen: np.ndarray, start: int, stop: int, expected: np.ndarray
) -> np.ndarray:
    """1.0 where every jaundice flag seen in weeks start..stop-1 equals ``expected``, else 0."""
    ok = np.ones(jaundice.shape[0], dtype=bool)
    for w in range(start, stop):
        y = jaundice[:, w]
        known = seen[:, w] & np.isfinite(y)
        ok &= ~known | ((y == 1) == expected)
    return ok.astype(float)


def _nodes(median: float, sd_log: float, step: float, span: float) -> tuple[np.ndarray, np.ndarray]:
    """Values and trapezoid weights of a log-normal variable on a uniform grid in SD units."""
    z = np.arange(-span, span + 1e-9, step)
    w = np.exp(-0.5 * z * z)
    return median * np.exp(sd_log * z), w / w.sum()


def _bound(
    draws: _Draws, onset_w: np.ndarray, kind: Injury, stop: float, config: GeneratorConfig
) -> np.ndarray:
    """log of an upper bound of prior-averaged likelihood ratio of an active source at the
    draws ``onset_w``: its peak is split into bins, in each its ALT and AST levels lie between
    known bounds (ALP and bilirubin are bounded over all R and spreads; bilirubin >= 1)."""
    sigma = config.liver.lab_variation_sd_log
    m = len(draws.bb)
    edges = np.r_[-np.inf, np.arange(-6.0, 6.01, 0.5), np.inf]
    mass = np.diff(ndtr(edges))
    med, sd = kind.alt_peak_xuln.median, kind.alt_peak_xuln.sd_log
    p_lo = med * np.exp(sd * np.maximum(edges[:-1], -40.0))
    p_hi = med * np.exp(sd * np.minimum(edges[1:], 40.0))
    total = np.log(np.maximum(mass, 1e-300))[None, :] * np.ones((m, 1))
    floor = 0.0  # log of the lowest bilirubin level of an active source
    for k in onset_w:
        xb = draws.xb[:, k]
        d_bb = (xb - draws.bb) / sigma
        top = np.maximum(draws.bb, floor)
        d_m = np.where(xb >= top, 0.0, (xb - top) / sigma)
        common = _log_phi_ratio(d_m, d_bb)
        x = draws.x["alp"][:, k]
        d_b = (x - draws.b["alp"]) / sigma
        common = common + np.logaddexp(
            0.0, np.log(np.maximum(ndtr(d_b), 1e-300)) + _log_phi_ratio(np.zeros(m), d_b)
        )
        total += common[:, None]
        decay = float(0.5 ** (max(float(draws.weeks[k]) - stop, 0.0) / kind.half_life_weeks))
        for t, factor in (("alt", 1.0), ("ast", config.liver.ast_to_alt_xuln)):
            x = draws.x[t][:, k][:, None]
            d_b = ((draws.x[t][:, k] - draws.b[t]) / sigma)[:, None]
            lo = np.log(factor * (1.0 + (p_lo - 1.0) * decay))[None, :]
            hi = np.log(factor * (1.0 + (p_hi - 1.0) * decay))[None, :]
            lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
            first = np.log(np.maximum(ndtr((x - lo) / sigma), 1e-300))
            nearest = np.clip(x, lo, hi)
            second = np.log(np.maximum(ndtr(d_b), 1e-300)) + _log_phi_ratio(
                (x - nearest) / sigma, d_b
            )
            total += np.logaddexp(first, second)
    out: np.ndarray = np.logaddexp.reduce(total, axis=1)
    return out


def _source_ratio(x: np.ndarray, b: np.ndarray, log_level: np.ndarray, sigma: float) -> np.ndarray:
    """log [density of max(baseline, source) at x] / [density of baseline at x] (levels in
    logs; x, b broadcast against log_level)."""
    d_b = (x - b) / sigma
    d_l = (x - log_level) / sigma
    first = np.log(np.maximum(ndtr(d_l), 1e-300))
    second = np.log(np.maximum(ndtr(d_b), 1e-300)) + _log_phi_ratio(d_l, d_b)
    out: np.ndarray = np.logaddexp(first, second)
    return out


def _source_integral(
    draws: _Draws,
    sel: np.ndarray,
    kind: Injury,
    config: GeneratorConfig,
    stop: float,
    past_active: np.ndarray,
    future_weeks: np.ndarray,
    extra_log: np.ndarray | None,
    jaundice_check: tuple[np.ndarray, np.ndarray, int, int] | None,
    grid: Grid,
) -> np.ndarray:
    """sum over an active source's (peak, R, bilirubin spread) of prior x likelihood ratio x
    P(this source quiet through future draw j), for the rows ``sel``: (len(sel), J + 1).

    ``extra_log`` (len(sel), P): a log factor per peak node (the symptoms of an injury);
    ``jaundice_check``: (flags, seen, first week, last week) the jaundice flags the weekly
    bilirubin must reproduce (injury only)."""
    lv = config.liver
    sigma = lv.lab_variation_sd_log
    hl = kind.half_life_weeks
    cap = lv.alp_peak_max_xuln
    tie = lv.bilirubin_with_cholestasis
    peaks, wp = _nodes(
        kind.alt_peak_xuln.median, kind.alt_peak_xuln.sd_log, grid.peak_step, grid.span
    )
    ratios, wr = _nodes(kind.r_ratio.median, kind.r_ratio.sd_log, grid.r_step, grid.span)
    zs, ws = _gauss_hermite(grid.spread_nodes)
    spread = np.exp(tie["sd_log"] * zs)
    s = len(sel)

    def level(week: float) -> np.ndarray:
        since = max(week - stop, 0.0)
        out: np.ndarray = 1.0 + (peaks - 1.0) * 0.5 ** (since / hl)  # (P,)
        return out

    def decay(week: float) -> float:
        return float(0.5 ** (max(week - stop, 0.0) / hl))

    # ALT and AST depend on the peak only: (rows, P); ALP on the peak and R, through its log
    # level, tabulated per row and draw (the same nodes for every row) and interpolated
    n_k = len(past_active)
    lik_p = np.zeros((s, len(peaks)))
    hid_p = np.zeros((s, len(peaks)))
    alp_pos = np.zeros((max(n_k, 1), len(peaks), len(ratios)))
    alp_lik = np.zeros((s, max(n_k, 1), len(_ALP_GRID)))
    alp_hid = np.zeros((s, max(n_k, 1), len(_ALP_GRID)))
    for q, k in enumerate(past_active):
        a = level(float(draws.weeks[k]))
        la = np.log(a)
        for t, shift in (("alt", 0.0), ("ast", np.log(lv.ast_to_alt_xuln))):
            x, b = draws.x[t][sel, k, None], draws.b[t][sel, None]
            lik_p += _source_ratio(x, b, shift + la[None, :], sigma)
            hid_p += log_ndtr((x - shift - la[None, :]) / sigma)
        lalp = np.log(np.minimum(a[:, None] / ratios[None, :], cap))
        alp_pos[q] = np.clip((lalp - _ALP_GRID[0]) / _ALP_STEP, 0.0, len(_ALP_GRID) - 1.000001)
        x, b = draws.x["alp"][sel, k, None], draws.b["alp"][sel, None]
        alp_lik[:, q] = _source_ratio(x, b, _ALP_GRID[None, :], sigma)
        alp_hid[:, q] = log_ndtr((x - _ALP_GRID[None, :]) / sigma)
    if extra_log is not None:
        lik_p += extra_log
        hid_p += extra_log

    # bilirubin: peak = min(1 + c * spread, max) with c from the ALP peak; tabulated in c
    alp_peak = np.minimum(peaks[:, None] / ratios[None, :], cap)
    c_nodes = tie["per_alp_xuln"] * np.maximum(alp_peak - 1.0, 0.0)  # (P, Rn)
    c_grid = np.r_[0.0, np.geomspace(1e-6, tie["per_alp_xuln"] * (cap - 1.0), grid.c_points)]
    bpk = np.minimum(1.0 + c_grid[:, None] * spread[None, :], lv.bilirubin_peak_max_xuln)
    b_log = np.zeros((s, len(c_grid), len(spread)))
    for k in past_active:
        lvl = 1.0 + (bpk - 1.0) * decay(float(draws.weeks[k]))  # (C, S)
        top = np.maximum(draws.bb[sel, None, None], np.log(lvl)[None])
        d_m = (draws.xb[sel, k, None, None] - top) / sigma
        d_bb = ((draws.xb[sel, k] - draws.bb[sel]) / sigma)[:, None, None]
        b_log += _log_phi_ratio(d_m, d_bb)
    b_val = np.exp(b_log)
    ok = np.ones((s, len(c_grid), len(spread)))
    if jaundice_check is not None:
        flags, seen, first, last = jaundice_check
        for w in range(first, last + 1):
            lvl = 1.0 + (bpk - 1.0) * decay(float(w))
            mg = np.maximum(draws.b0[sel, None, None], draws.ref_b[sel, None, None] * lvl[None])
            y = flags[:, w]
            known = (seen[:, w] & np.isfinite(y))[:, None, None]
            jaundiced = mg > config.symptoms.jaundice_bilirubin_mg_dl
            ok *= ~known | ((y == 1)[:, None, None] == jaundiced)
    c_idx = np.clip(np.searchsorted(c_grid, c_nodes, side="right") - 1, 0, len(c_grid) - 2)
    lo, hi = c_grid[c_idx], c_grid[c_idx + 1]
    c_frac = np.clip((c_nodes - lo) / (hi - lo), 0.0, 1.0)
    prior = wp[:, None] * wr[None, :]
    quiet = np.ones((len(future_weeks) + 1, len(peaks), len(ratios)))
    for j, week in enumerate(future_weeks, start=1):
        a = level(float(week))
        levels = liver.enzyme_levels(
            a[:, None] * np.ones((1, len(ratios))), ratios[None, :], config
        )
        quiet[j] = quiet[j - 1] * liver._quiet(levels, sigma)
    return _node_sums(
        lik_p,
        hid_p,
        alp_pos,
        alp_lik,
        alp_hid,
        n_k,
        (b_val * ok) @ ws,
        ok @ ws,
        c_idx,
        c_frac,
        prior,
        quiet,
    )


@numba.njit(cache=True, parallel=True)
def _node_sums(
    lik_p: np.ndarray,  # (rows, P) log ratio of ALT and AST (+ symptoms)
    hid_p: np.ndarray,  # (rows, P) log P(ALT and AST readings below) (+ symptoms)
    alp_pos: np.ndarray,  # (K, P, Rn) fractional index of the ALP level in its table
    alp_lik: np.ndarray,  # (rows, K, G) log ratio of the ALP value per tabulated level
    alp_hid: np.ndarray,  # (rows, K, G) log P(ALP reading below) per tabulated level
    n_k: int,
    b_full: np.ndarray,  # (rows, C) bilirubin ratio x jaundice check, integrated over spread
    b_ok: np.ndarray,  # (rows, C) jaundice check integrated over spread
    c_idx: np.ndarray,  # (P, Rn)
    c_frac: np.ndarray,  # (P, Rn)
    prior: np.ndarray,  # (P, Rn)
    quiet: np.ndarray,  # (J + 1, P, Rn) P(source quiet through future draw j)
) -> np.ndarray:
    """sum over the (peak, R) nodes of prior x likelihood x quiet, (full, hidden) x rows x
    (J + 1): the inner loop of ``_source_integral``."""
    rows, n_p = lik_p.shape
    n_r = prior.shape[1]
    n_j = quiet.shape[0]
    out = np.zeros((2, rows, n_j))
    for i in numba.prange(rows):
        for p in range(n_p):
            for r in range(n_r):
                ll = lik_p[i, p]
                lh = hid_p[i, p]
                for k in range(n_k):
                    pos = alp_pos[k, p, r]
                    g = int(pos)
                    f = pos - g
                    ll += alp_lik[i, k, g] * (1.0 - f) + alp_lik[i, k, g + 1] * f
                    lh += alp_hid[i, k, g] * (1.0 - f) + alp_hid[i, k, g + 1] * f
                c = c_idx[p, r]
                f = c_frac[p, r]
                bf = b_full[i, c] * (1.0 - f) + b_full[i, c + 1] * f
                bo = b_ok[i, c] * (1.0 - f) + b_ok[i, c + 1] * f
                wl = np.exp(ll) * bf * prior[p, r]
                wh = np.exp(lh) * bo * prior[p, r]
                for j in range(n_j):
                    q = quiet[j, p, r]
                    out[0, i, j] += wl * q
                    out[1, i, j] += wh * q
    return out


def _active_injury(
    pairs: list[tuple[int, bool, np.ndarray, np.ndarray, np.ndarray]],
    reference: np.ndarray,
    hist: _History,
    draws: _Draws,
    sym_ll: np.ndarray,
    jaundice: np.ndarray,
    seen: np.ndarray,
    config: GeneratorConfig,
    landmark: int,
    future: np.ndarray,
    grid: Grid,
) -> np.ndarray:
    """The reaction states with onset o <= L: (m, 2, J + 1)."""
    lv = config.liver
    inj = lv.kratom_injury
    lab_weeks = np.array(config.follow_up.post_baseline_lab_weeks)
    m = len(reference)
    out = np.zeros((2, 2, m, 2, len(future) + 1))  # (B, C) x (full, hidden)
    peaks, _ = _nodes(inj.alt_peak_xuln.median, inj.alt_peak_xuln.sd_log, grid.peak_step, grid.span)
    jaundice_before = draws.b0 > config.symptoms.jaundice_bilirubin_mg_dl
    # pruning scores in logs: the likelihood ratio itself underflows to 0 when the reference
    # likelihood is large
    log_reference = np.log(reference)
    for o, symptomatic, onset_w, weight, keep in pairs:
        stop = float(o) if symptomatic else np.inf
        bound = _bound(draws, onset_w, inj, stop, config) + np.maximum(sym_ll[:, o], 0.0)
        pre_ok = _jaundice_ok(jaundice, seen, 1, o, jaundice_before)
        score = np.log(np.maximum(weight.max(axis=1), 1e-300)) - log_reference + bound
        sel = np.flatnonzero(keep & (score > np.log(_PRUNE)) & (pre_ok > 0))
        if len(sel) == 0:
            continue
        for chunk in np.array_split(sel, max(1, len(sel) // 256)):
            extra_c = np.where(peaks[None, :] > 1.0, sym_ll[chunk, o, None], 0.0)
            integral = _source_integral(
                draws,
                chunk,
                inj,
                config,
                stop,
                onset_w,
                lab_weeks[future],
                extra_c,
                (jaundice[chunk], seen[chunk], o, landmark),
                grid,
            )
            target = out[int(symptomatic)]  # a view: (full, hidden) x rows
            target[:, chunk] += weight[chunk][None, :, :, None] * integral[:, :, None, :]
    return out


def _flare_factor(
    prior: _LiverPrior,
    config: GeneratorConfig,
    landmark: int,
    rows: np.ndarray,
    draws: _Draws,
    future: np.ndarray,
    grid: Grid,
) -> np.ndarray:
    """sum over the flare states of prior x likelihood ratio x P(no flare detection through
    future draw j), per fatty-liver value: (m, 2, J + 1)."""
    fl = config.liver.background_flare
    weeks = config.follow_up.weeks
    lab_weeks = np.array(config.follow_up.post_baseline_lab_weeks)
    m, n_fut = len(rows), len(future)
    p = prior.p_flare[rows]  # (m, 2)
    table = prior.flare_tables  # (W + 1, K)
    cum = np.c_[np.zeros((weeks + 1, 1)), table[:, future]]  # (W + 1, J + 1)
    later = (1.0 - cum[landmark + 1 :]).sum(axis=0) / weeks  # (J + 1,)
    out = np.zeros((3, m, 2, n_fut + 1))
    out[0] = (1.0 - p)[:, :, None] + p[:, :, None] * later[None, None, :]
    for fw in range(1, landmark + 1):
        onset_w = np.where(draws.weeks >= fw)[0]
        bound = _bound(draws, onset_w, fl, float(fw), config)
        score = np.log(p.max(axis=1) / weeks) + bound
        sel = np.flatnonzero(score > np.log(_PRUNE))
        for chunk in np.array_split(sel, max(1, len(sel) // 256)):
            if len(chunk) == 0:
                continue
            integral = _source_integral(
                draws,
                chunk,
                fl,
                config,
                float(fw),
                onset_w,
                lab_weeks[future],
                None,
                None,
                grid,
            )
            out[1:, chunk] += (p[chunk] / weeks)[None, :, :, None] * integral[:, :, None, :]
    return out


def _ggt_factor(
    hist: _History, base: Baseline, config: GeneratorConfig, landmark: int, rows: np.ndarray
) -> np.ndarray:
    """P(follow-up GGT values up to L | fatty liver), (m, 2), up to a common factor: they reveal
    the entry GGT (and so fatty liver) when it was not recorded at entry."""
    lv, labs = config.liver, config.labs
    sigma = lv.lab_variation_sd_log
    lab_weeks = np.array(config.follow_up.post_baseline_lab_weeks)
    past = lab_weeks[lab_weeks <= landmark]
    out = np.ones((len(rows), 2))
    if len(past) == 0:
        return out
    g = hist.labs["ggt"][rows][:, past]
    alp_x = hist.labs["alp"][rows][:, past] / base.alp_uln[rows, None]
    uln = labs.uln["ggt"]
    floor = uln * lv.ggt_to_alp_in_injury * alp_x * (alp_x > 1)
    need = np.isnan(base.ggt[rows]) & np.isfinite(g).any(axis=1)
    sel = np.flatnonzero(need)
    if len(sel) == 0:
        return out
    y = np.arange(-1.0, 10.0, 0.01)  # log entry GGT
    ll = np.zeros((len(sel), len(y)))
    for k in range(len(past)):
        gk = g[sel, k]
        ok = np.isfinite(gk)
        top = np.maximum(y[None, :], np.log(np.maximum(floor[sel, k], 1e-300))[:, None])
        d = (np.log(np.where(ok, gk, 1.0))[:, None] - top) / sigma
        ll += np.where(ok[:, None], -0.5 * d * d, 0.0)
    sd = labs.lab_sd_log["ggt"]
    b = base
    r = rows[sel]
    for nafld in (0, 1):
        mu = _lab_log_mean(
            "ggt", b.male[r], b.hcv[r], b.hbv[r], b.alcohol_positive[r], nafld, config
        )
        prior = -0.5 * ((y[None, :] - mu[:, None]) / sd) ** 2
        top = (ll + prior).max(axis=1, keepdims=True)
        out[sel, nafld] = np.exp(top[:, 0]) * np.exp(ll + prior - top).sum(axis=1)
    out[sel] /= out[sel].max(axis=1, keepdims=True)
    return out
