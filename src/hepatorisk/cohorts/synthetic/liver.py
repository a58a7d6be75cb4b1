"""The liver mechanism: why ALT rises, when, in which pattern, and how it falls again.

Three independent sources can lift ALT above the event threshold at a protocol lab draw:

* an idiosyncratic kratom reaction (users only): probability from dose, alcohol, fatty liver,
  hepatitis, co-medication and a latent susceptibility; onset after a lognormal latency; a plateau
  while kratom continues, halving after it stops (``Injury.half_life_weeks``);
* a background flare (viral hepatitis, alcohol, fatty liver, hepatotoxic drugs), at a uniformly
  distributed time, hepatocellular, waning by itself;
* the patient's own baseline level, fluctuating from draw to draw.

A draw reads the highest of the three, each with its own biological variation, so the chance of
no exceedance factorises by source. That makes the oracle (``liver_survival``) exact: the onset
and peak of an elevation do not depend on the baseline record, so their detection curves are
computed once by quadrature, and only the probability that each source occurs is patient-specific.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit
from scipy.stats import norm

from hepatorisk.clinical import dili
from hepatorisk.cohorts.synthetic.params import GeneratorConfig, Injury, LogNormal
from hepatorisk.cohorts.synthetic.population import Baseline, nafld_posterior

__all__ = [
    "DetectionCurves",
    "LiverCourse",
    "detection_curves",
    "gauss_hermite_normal",
    "liver_survival",
    "simulate_liver",
]


def gauss_hermite_normal(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights integrating a function of a standard normal variable."""
    x, w = np.polynomial.hermite.hermgauss(nodes)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def level_at(
    peak: np.ndarray,
    onset_week: np.ndarray | float,
    stop_week: np.ndarray | float,
    week: np.ndarray | int,
    half_life: float,
) -> np.ndarray:
    """Multiple of ULN at ``week`` of an elevation that plateaus at ``peak`` from ``onset_week``
    until ``stop_week`` (exposure ends), then halves every ``half_life`` weeks; 0 before onset."""
    since_stop = np.maximum(week - stop_week, 0.0)
    level = 1.0 + (peak - 1.0) * 0.5 ** (since_stop / half_life)
    return np.where(week >= onset_week, level, 0.0)


def _reaction_logit(base: Baseline, nafld: np.ndarray | int, config: GeneratorConfig) -> np.ndarray:
    c = config.liver.kratom_reaction_logit
    mg = np.where(base.kratom_user, base.mitragynine_mg_day, config.liver.dose_reference_mg)
    return (
        c["intercept"]
        + c["per_doubling_mitragynine"] * np.log2(mg / config.liver.dose_reference_mg)
        + c["alcohol_positive"] * base.alcohol_positive
        + c["nafld"] * nafld
        + c["hcv"] * base.hcv
        + c["acetaminophen"] * base.acetaminophen
        + c["other_hepatotoxic"] * base.other_hepatotoxic
        + c["cyp_interacting"] * base.cyp_interacting
    )


def _flare_logit(base: Baseline, nafld: np.ndarray | int, config: GeneratorConfig) -> np.ndarray:
    c = config.liver.background_flare_logit
    return (
        c["intercept"]
        + c["hcv"] * base.hcv
        + c["hbv"] * base.hbv
        + c["hiv"] * base.hiv
        + c["alcohol_positive"] * base.alcohol_positive
        + c["nafld"] * nafld
        + c["acetaminophen"] * base.acetaminophen
        + c["statin"] * base.statin
        + c["other_hepatotoxic"] * base.other_hepatotoxic
    )


@dataclass(frozen=True)
class DetectionCurves:
    """P(an elevation that occurs has exceeded the threshold at some draw up to each lab week)."""

    lab_weeks: np.ndarray
    injury: np.ndarray
    flare: np.ndarray


def detection_curves(config: GeneratorConfig) -> DetectionCurves:
    """Integrate onset week and log peak exactly (discrete onset, Gauss-Hermite over the peak)."""
    fu, liver = config.follow_up, config.liver
    labs = np.array(fu.post_baseline_lab_weeks, dtype=float)
    weeks = np.arange(1, fu.weeks + 1, dtype=float)
    sigma, threshold = liver.lab_variation_sd_log, np.log(liver.event_threshold_xuln)

    lat = liver.latency_days
    cdf = norm.cdf((np.log(7.0 * np.r_[0.0, weeks].clip(1e-12)) - np.log(lat.median)) / lat.sd_log)
    injury_onset_pmf = np.diff(cdf)  # onset in week w (days 7(w-1) < d <= 7w)
    flare_onset_pmf = np.full(len(weeks), 1.0 / len(weeks))

    def curve(injury: Injury, onset_pmf: np.ndarray, plateau: bool) -> np.ndarray:
        z, g = gauss_hermite_normal(config.oracle.injury_grid)
        peaks = injury.alt_peak_xuln.median * np.exp(injury.alt_peak_xuln.sd_log * z)
        # levels[w, m, k]: level at lab k of an elevation with onset week w and peak m; a kratom
        # injury plateaus until the first detection (after which nothing here matters), a flare
        # wanes from its onset
        levels = np.stack(
            [
                level_at(
                    peaks[:, None],
                    w,
                    np.inf if plateau else w,
                    labs[None, :],
                    injury.half_life_weeks,
                )
                for w in weeks
            ]
        )
        with np.errstate(divide="ignore"):
            exceed = norm.cdf((np.log(levels) - threshold) / sigma)
        exceed = np.where(levels > 0, exceed, 0.0)
        none_yet = np.cumprod(1.0 - exceed, axis=2)
        detected: np.ndarray = 1.0 - np.einsum("w,m,wmk->k", onset_pmf, g, none_yet)
        return detected

    return DetectionCurves(
        lab_weeks=labs.astype(int),
        injury=curve(liver.kratom_injury, injury_onset_pmf, plateau=True),
        flare=curve(liver.background_flare, flare_onset_pmf, plateau=False),
    )


def liver_survival(
    base: Baseline, config: GeneratorConfig, curves: DetectionCurves | None = None
) -> np.ndarray:
    """P(no ALT above the threshold at any draw up to each post-baseline lab week | record).

    Shape (patients, lab weeks). Integrates fatty liver (its posterior given the record) and the
    latent susceptibility (Gauss-Hermite) exactly; ``1 - S[:, k]`` is the true risk by lab ``k``.
    """
    curves = curves or detection_curves(config)
    liver = config.liver
    sigma = liver.lab_variation_sd_log
    threshold_u_l = liver.event_threshold_xuln * base.alt_uln
    baseline_quiet = norm.cdf((np.log(threshold_u_l) - np.log(base.alt)) / sigma)
    s_base = np.cumprod(np.repeat(baseline_quiet[:, None], len(curves.lab_weeks), axis=1), axis=1)

    z, g = gauss_hermite_normal(config.oracle.quadrature_nodes)
    w_nafld = nafld_posterior(base, config)
    mixture = np.zeros((base.n, len(curves.lab_weeks)))
    for nafld, weight in ((0, 1.0 - w_nafld), (1, w_nafld)):
        p_flare = expit(_flare_logit(base, nafld, config))
        logit = _reaction_logit(base, nafld, config)
        p_react = expit(logit[:, None] + liver.susceptibility_sd * z[None, :]) @ g
        p_react = np.where(base.kratom_user, p_react, 0.0)
        mixture += weight[:, None] * (
            (1.0 - p_flare[:, None] * curves.flare[None, :])
            * (1.0 - p_react[:, None] * curves.injury[None, :])
        )
    return s_base * mixture


@dataclass
class LiverCourse:
    """One simulated liver course per patient: latent draws, lab values and derived events."""

    susceptibility: np.ndarray
    reaction: np.ndarray
    injury_onset_day: np.ndarray
    flare: np.ndarray
    flare_onset_day: np.ndarray
    detection_week: np.ndarray  # first post-baseline lab week with ALT above threshold (inf: none)
    detection_cause: np.ndarray  # 'kratom', 'background_flare', 'baseline_fluctuation' or None
    stop_week: np.ndarray  # week after whose lab kratom stopped (inf: never)
    labs: dict[str, np.ndarray]  # analyte -> (patients, lab weeks incl. week 0) values
    injury_alt_xuln: np.ndarray  # (patients, weeks + 1) latent injury level, for symptoms
    bilirubin_mg_dl: np.ndarray  # (patients, weeks + 1) latent bilirubin, for jaundice


def simulate_liver(
    rng: np.random.Generator,
    base: Baseline,
    nafld: np.ndarray,
    patients_labs: dict[str, np.ndarray],
    config: GeneratorConfig,
) -> LiverCourse:
    """Simulate each patient's liver course and protocol lab draws (week 0 = baseline record)."""
    n, fu, liver = base.n, config.follow_up, config.liver
    inj, fl = liver.kratom_injury, liver.background_flare
    sigma = liver.lab_variation_sd_log

    def lognormal(dist: LogNormal, size: int) -> np.ndarray:
        draws: np.ndarray = dist.median * np.exp(dist.sd_log * rng.standard_normal(size))
        return draws

    z = rng.standard_normal(n)
    p_react = expit(_reaction_logit(base, nafld, config) + liver.susceptibility_sd * z)
    reaction = base.kratom_user & (rng.random(n) < p_react)
    onset_day = lognormal(liver.latency_days, n)
    onset_week = np.ceil(onset_day / 7.0)
    inj_peak, inj_r, inj_bili = (
        lognormal(inj.alt_peak_xuln, n),
        lognormal(inj.r_ratio, n),
        np.minimum(lognormal(inj.bilirubin_peak_xuln, n), liver.bilirubin_peak_max_xuln),
    )
    flare = rng.random(n) < expit(_flare_logit(base, nafld, config))
    flare_day = rng.uniform(0.0, 7.0 * fu.weeks, n)
    flare_week = np.maximum(np.ceil(flare_day / 7.0), 1.0)
    fl_peak, fl_r, fl_bili = (
        lognormal(fl.alt_peak_xuln, n),
        lognormal(fl.r_ratio, n),
        np.minimum(lognormal(fl.bilirubin_peak_xuln, n), liver.bilirubin_peak_max_xuln),
    )

    lab_weeks = [0, *fu.post_baseline_lab_weeks]
    uln = {k: patients_labs[f"{k}_uln"] for k in ("alt", "ast", "alp", "bilirubin", "ggt")}
    labs = {
        k: np.full((n, len(lab_weeks)), np.nan)
        for k in ("alt", "ast", "alp", "bilirubin", "ggt", "albumin", "inr", "platelets")
    }
    for k in labs:
        labs[k][:, 0] = patients_labs[k]
    detection = np.full(n, np.inf)
    cause = np.full(n, None, dtype=object)
    stop = np.full(n, np.inf)
    threshold = liver.event_threshold_xuln

    for j, week in enumerate(lab_weeks[1:], start=1):
        exposed = reaction & (onset_week <= stop)  # a reaction needs exposure at its onset
        inj_alt = np.where(
            exposed, level_at(inj_peak, onset_week, stop, week, inj.half_life_weeks), 0
        )
        fl_alt = np.where(
            flare, level_at(fl_peak, flare_week, flare_week, week, fl.half_life_weeks), 0
        )
        e = rng.standard_normal((3, n)) * sigma
        sources = np.stack(
            [
                patients_labs["alt"] * np.exp(e[0]),
                uln["alt"] * inj_alt * np.exp(e[1]),
                uln["alt"] * fl_alt * np.exp(e[2]),
            ]
        )
        alt = sources.max(axis=0)
        above = sources > threshold * uln["alt"]
        new = above.any(axis=0) & np.isinf(detection)
        detection[new] = week
        cause[new & above[1]] = "kratom"
        cause[new & ~above[1] & above[2]] = "background_flare"
        cause[new & ~above[1] & ~above[2]] = "baseline_fluctuation"
        stops = new & base.kratom_user & (rng.random(n) < liver.stop_on_detection_probability)
        # later draws see the stop; this draw already shows the level reached
        stop[stops] = week

        # R = (ALT/ULN) / (ALP/ULN), with ALP capped at a clinically seen peak
        inj_alp = np.minimum(inj_alt / inj_r, liver.alp_peak_max_xuln)
        fl_alp = np.minimum(fl_alt / fl_r, liver.alp_peak_max_xuln)
        inj_b = np.where(
            exposed, level_at(inj_bili, onset_week, stop, week, inj.half_life_weeks), 0
        )
        fl_b = np.where(
            flare, level_at(fl_bili, flare_week, flare_week, week, fl.half_life_weeks), 0
        )
        noise = np.exp(rng.standard_normal((6, n)) * sigma)
        labs["alt"][:, j] = alt
        labs["ast"][:, j] = (
            np.maximum(patients_labs["ast"], liver.ast_to_alt_in_injury * alt * (alt > uln["alt"]))
            * noise[0]
        )
        alp_x = np.maximum.reduce([patients_labs["alp"] / uln["alp"], inj_alp, fl_alp])
        labs["alp"][:, j] = uln["alp"] * alp_x * noise[1]
        bili_x = np.maximum.reduce([patients_labs["bilirubin"] / uln["bilirubin"], inj_b, fl_b])
        labs["bilirubin"][:, j] = uln["bilirubin"] * bili_x * noise[2]
        labs["ggt"][:, j] = (
            np.maximum(
                patients_labs["ggt"], uln["ggt"] * liver.ggt_to_alp_in_injury * alp_x * (alp_x > 1)
            )
            * noise[3]
        )
        labs["inr"][:, j] = (
            patients_labs["inr"]
            + liver.inr_rise_per_bilirubin_xuln * np.maximum(bili_x - 1.0, 0.0)
            + 0.03 * rng.standard_normal(n)
        )
        labs["albumin"][:, j] = patients_labs["albumin"] + 0.15 * rng.standard_normal(n)
        labs["platelets"][:, j] = patients_labs["platelets"] * noise[4]

    all_weeks = np.arange(fu.weeks + 1)
    exposed = reaction & (onset_week <= stop)
    injury_weekly = np.where(
        exposed[:, None],
        level_at(
            inj_peak[:, None],
            onset_week[:, None],
            stop[:, None],
            all_weeks[None, :],
            inj.half_life_weeks,
        ),
        0.0,
    )
    bili_weekly = patients_labs["bilirubin"][:, None] * np.ones(len(all_weeks))
    bili_weekly = np.maximum(
        bili_weekly,
        uln["bilirubin"][:, None]
        * np.where(
            exposed[:, None],
            level_at(
                inj_bili[:, None],
                onset_week[:, None],
                stop[:, None],
                all_weeks[None, :],
                inj.half_life_weeks,
            ),
            0.0,
        ),
    )

    return LiverCourse(
        susceptibility=z,
        reaction=reaction,
        injury_onset_day=np.where(reaction, onset_day, np.nan),
        flare=flare,
        flare_onset_day=np.where(flare, flare_day, np.nan),
        detection_week=detection,
        detection_cause=cause,
        stop_week=stop,
        labs=labs,
        injury_alt_xuln=injury_weekly,
        bilirubin_mg_dl=bili_weekly,
    )


def outcome_fields(
    course: LiverCourse, base_uln: dict[str, np.ndarray], config: GeneratorConfig
) -> dict[str, np.ndarray]:
    """The liver columns of ``outcomes.parquet`` from a simulated course."""
    fu = config.follow_up
    lab_weeks = np.array([0, *fu.post_baseline_lab_weeks])
    post = lab_weeks > 0
    alt_x = course.labs["alt"][:, post] / base_uln["alt"][:, None]
    alp_x = course.labs["alp"][:, post] / base_uln["alp"][:, None]
    bili_x = course.labs["bilirubin"][:, post] / base_uln["bilirubin"][:, None]
    event = course.detection_week <= fu.liver_horizon_weeks
    col = np.searchsorted(
        lab_weeks[post], np.where(event, course.detection_week, lab_weeks[post][0])
    )
    rows = np.arange(len(event))
    r = np.where(event, dili.r_ratio(alt_x[rows, col], alp_x[rows, col]), np.nan)
    onset = np.select(
        [course.detection_cause == "kratom", course.detection_cause == "background_flare"],
        [course.injury_onset_day, course.flare_onset_day],
        default=7.0 * course.detection_week,
    )
    return {
        "liver_event_12w": event,
        "liver_onset_day": np.where(event, np.round(onset), np.nan),
        "alt_peak_xuln": alt_x.max(axis=1),
        "alp_peak_xuln": alp_x.max(axis=1),
        "bili_peak_xuln": bili_x.max(axis=1),
        "r_ratio_onset": r,
        "injury_pattern": dili.injury_pattern(r),
        "hys_law": dili.hys_law(alt_x, bili_x, alp_x).any(axis=1),
    }
