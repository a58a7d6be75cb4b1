"""The liver mechanism: why liver enzymes rise, when, in which pattern, and how they fall again.

Three sources can lift ALT, AST or ALP to a new-onset grade >= 2 elevation (``clinical/
liver_events.py``: graded against ULN, or against the baseline when the baseline is abnormal):

* an idiosyncratic kratom reaction (users only). Its cumulative hazard after a *trigger* (the
  start of kratom, or a dose increase: the latency restarts, clinical-facts.md §1) follows the
  latency distribution, scaled by dose, co-factors and a latent susceptibility. Only the last
  trigger counts, at most one reaction happens, and none before entry (the cohort is people who
  enter treatment still taking kratom without a reaction so far: long-term users are the
  survivors, as the Malaysian users are). A reaction plateaus while kratom continues and halves
  after it stops; a symptomatic reaction makes the patient stop the week it begins;
* a background flare (viral hepatitis, alcohol, fatty liver, hepatotoxic drugs), at a uniformly
  distributed time, hepatocellular, waning by itself;
* the patient's own baseline level, fluctuating from draw to draw.

Each source's levels are multiples of the patient's *reference* for each enzyme, the quantity
CTCAE grades against; bilirubin follows the cholestatic (ALP) component. A draw reads the highest
source for each enzyme, each with its own biological variation, so the chance of no new-onset
elevation factorises by source given their latent variables. That keeps the oracle exact: the
detection tables (``detection_tables``) are computed once by quadrature, and only the
probability and timing of each source is patient-specific (``LiverOracle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.special import expit
from scipy.stats import norm

from hepatorisk.clinical.ctcae import GRADE_2_ABOVE
from hepatorisk.clinical.liver_events import ENZYMES
from hepatorisk.cohorts.synthetic.params import GeneratorConfig, Injury
from hepatorisk.cohorts.synthetic.population import Baseline, nafld_posterior

__all__ = [
    "DetectionTables",
    "Intervention",
    "LiverOracle",
    "detection_tables",
    "gauss_hermite_normal",
    "level_at",
]

_THRESHOLD = np.log([GRADE_2_ABOVE[t] for t in ENZYMES])  # in multiples of the reference


@dataclass(frozen=True)
class Intervention:
    """Set the daily kratom dose to ``dose_factor`` x the recorded dose from entry on, with no
    later dose change (0 = stop at entry). Stopping after symptoms or a detected elevation still
    happens: that is care, not the dose. An increase is a new trigger at entry."""

    dose_factor: float

    def __post_init__(self) -> None:
        if not np.isfinite(self.dose_factor) or self.dose_factor < 0:
            raise ValueError(f"dose_factor must be a finite number >= 0, got {self.dose_factor}")


def gauss_hermite_normal(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights integrating a function of a standard normal variable."""
    x, w = np.polynomial.hermite.hermgauss(nodes)
    return np.sqrt(2.0) * x, w / np.sqrt(np.pi)


def level_at(
    peak: np.ndarray,
    onset_week: np.ndarray | float,
    stop_week: np.ndarray | float,
    week: np.ndarray | float,
    half_life: float,
) -> np.ndarray:
    """Multiple of the reference at ``week`` of an elevation that plateaus at ``peak`` from
    ``onset_week`` until ``stop_week`` (exposure ends), then halves every ``half_life`` weeks
    towards 1; 0 before onset."""
    since_stop = np.maximum(week - stop_week, 0.0)
    level = 1.0 + (peak - 1.0) * 0.5 ** (since_stop / half_life)
    return np.where(week >= onset_week, level, 0.0)


def enzyme_levels(
    alt_level: np.ndarray, r_ratio: np.ndarray, config: GeneratorConfig
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ALT, AST and ALP of one source, in multiples of their references (R sets ALP)."""
    liver = config.liver
    with np.errstate(divide="ignore", invalid="ignore"):
        alp = np.minimum(alt_level / r_ratio, liver.alp_peak_max_xuln)
    return alt_level, liver.ast_to_alt_xuln * alt_level, alp


def _quiet(levels: tuple[np.ndarray, ...], sigma: float) -> np.ndarray:
    """P(no enzyme of a source above its grade-2 threshold at a draw | its levels)."""
    quiet = np.ones(np.shape(levels[0]))
    for level, threshold in zip(levels, _THRESHOLD, strict=True):
        with np.errstate(divide="ignore"):
            quiet = quiet * norm.cdf((threshold - np.log(level)) / sigma)
    return quiet


@dataclass(frozen=True)
class DetectionTables:
    """P(a source's elevation has been detected by each post-baseline lab, all labs drawn).

    ``injury[s, w, k]``: a reaction with onset in week w (1-based; row 0 unused) that does
    (s=1) or does not (s=0) make the patient stop kratom that week; ``flare[k]``: a flare."""

    lab_weeks: np.ndarray
    injury: np.ndarray
    flare: np.ndarray


def detection_tables(config: GeneratorConfig) -> DetectionTables:
    """Integrate onset, log peak and log R exactly (discrete onset, Gauss-Hermite over both);
    computed once per configuration."""
    return _detection_tables(config.model_dump_json())


@lru_cache(maxsize=8)
def _detection_tables(config_json: str) -> DetectionTables:
    config = GeneratorConfig.model_validate_json(config_json)
    fu, liver = config.follow_up, config.liver
    labs = np.array(fu.post_baseline_lab_weeks, dtype=float)
    weeks = np.arange(1, fu.weeks + 1, dtype=float)
    sigma = liver.lab_variation_sd_log
    zp, gp = gauss_hermite_normal(config.oracle.injury_grid)
    zr, gr = gauss_hermite_normal(config.oracle.r_grid)
    weight = gp[:, None] * gr[None, :]

    def detected(injury: Injury, onset: float, stop: float) -> np.ndarray:
        peaks = injury.alt_peak_xuln.median * np.exp(injury.alt_peak_xuln.sd_log * zp)
        ratios = injury.r_ratio.median * np.exp(injury.r_ratio.sd_log * zr)
        alt = level_at(
            peaks[:, None, None], onset, stop, labs[None, None, :], injury.half_life_weeks
        )
        levels = enzyme_levels(alt, ratios[None, :, None], config)
        quiet = np.where(alt > 0, _quiet(levels, sigma), 1.0)
        none_yet = np.cumprod(quiet, axis=2)
        result: np.ndarray = 1.0 - np.einsum("mr,mrk->k", weight, none_yet)
        return result

    inj = liver.kratom_injury
    injury = np.zeros((2, len(weeks) + 1, len(labs)))
    for w in weeks:
        # a reaction plateaus until its detection (after which nothing here matters) ...
        injury[0, int(w)] = detected(inj, w, np.inf)
        # ... or until the patient stops kratom for its symptoms, the week it begins
        injury[1, int(w)] = detected(inj, w, w)
    fl = liver.background_flare
    flare = np.mean([detected(fl, w, w) for w in weeks], axis=0)
    return DetectionTables(lab_weeks=labs.astype(int), injury=injury, flare=flare)


def reaction_log_hazard(
    base: Baseline, mitragynine_mg_day: np.ndarray, nafld: np.ndarray | int, config: GeneratorConfig
) -> np.ndarray:
    """Log cumulative hazard of a reaction after a trigger at a daily dose, susceptibility 0."""
    c = config.liver.kratom_reaction_log_hazard
    mg = np.where(mitragynine_mg_day > 0, mitragynine_mg_day, config.liver.dose_reference_mg)
    return (
        config.effects.reaction_log_hazard
        + c["per_doubling_mitragynine"] * np.log2(mg / config.liver.dose_reference_mg)
        + c["alcohol_positive"] * base.alcohol_positive
        + c["nafld"] * nafld
        + c["hcv"] * base.hcv
        + c["acetaminophen"] * base.acetaminophen
        + c["other_hepatotoxic"] * base.other_hepatotoxic
        + c["cyp_interacting"] * base.cyp_interacting
    )


def flare_probability(
    base: Baseline, nafld: np.ndarray | int, config: GeneratorConfig
) -> np.ndarray:
    c = config.liver.background_flare_logit
    return expit(
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


def latency_cdf(days: np.ndarray, config: GeneratorConfig) -> np.ndarray:
    lat = config.liver.latency_days
    with np.errstate(divide="ignore"):
        z = (np.log(np.maximum(days, 0.0)) - np.log(lat.median)) / lat.sd_log
    return np.asarray(norm.cdf(z), dtype=float)


@dataclass(frozen=True)
class World:
    """One course of the dose: no increase (review_week 0) or one increase at a review."""

    probability: float
    review_week: int


def dose_worlds(config: GeneratorConfig, intervention: Intervention | None) -> list[World]:
    """The dose courses and their probabilities (at most one increase, at a monthly review)."""
    inc = config.kratom.dose_increase
    if intervention is not None:
        return [World(1.0, 0)]
    worlds, stay = [], 1.0
    for week in inc.review_weeks:
        if week < config.follow_up.weeks:
            worlds.append(World(stay * inc.probability_per_review, week))
            stay *= 1.0 - inc.probability_per_review
    return [World(stay, 0), *worlds]


def cumulative_shape(
    base: Baseline, world: World, intervention: Intervention | None, config: GeneratorConfig
) -> np.ndarray:
    """C[i, w]: the reaction's cumulative hazard from entry to the end of week w (w = 0..weeks)
    per unit of its hazard at the entry dose (only the last trigger counts)."""
    weeks = np.arange(0, config.follow_up.weeks + 1, dtype=float)
    restart = intervention is not None and intervention.dose_factor > 1.0
    since_start = 0.0 if restart else 7.0 * base.use_weeks[:, None]
    from_start = latency_cdf(since_start + 7.0 * weeks[None, :], config) - latency_cdf(
        np.broadcast_to(since_start, (base.n, 1)), config
    )
    if world.review_week == 0:
        return np.asarray(from_start, dtype=float)
    w0 = world.review_week
    factor = config.kratom.dose_increase.factor
    ratio = np.exp(
        config.liver.kratom_reaction_log_hazard["per_doubling_mitragynine"] * np.log2(factor)
    )
    after = ratio * latency_cdf(7.0 * (weeks - w0), config)
    shape: np.ndarray = np.where(weeks[None, :] <= w0, from_start, from_start[:, [w0]] + after)
    return shape


class LiverOracle:
    """Exact liver risks given the baseline record: the oracle of ``liver_event_*`` and the
    distribution of the week kratom stops, which the relapse oracle needs."""

    def __init__(
        self,
        base: Baseline,
        config: GeneratorConfig,
        intervention: Intervention | None = None,
    ) -> None:
        self.base, self.config, self.intervention = base, config, intervention
        self.tables = detection_tables(config)
        liver, fu = config.liver, config.follow_up
        n = base.n
        self.users = base.kratom_user & (intervention is None or intervention.dose_factor > 0)
        z, g = gauss_hermite_normal(config.oracle.quadrature_nodes)
        dose_factor = 1.0 if intervention is None else intervention.dose_factor
        p_nafld = nafld_posterior(base, config)
        # posterior of (fatty liver, susceptibility) given the record and no reaction before
        # entry at the recorded dose; then the reaction's onset law under each dose course
        self.parts: list[
            tuple[np.ndarray, np.ndarray, np.ndarray]
        ] = []  # (P(nafld), P(flare), pmf)
        pre = latency_cdf(7.0 * base.use_weeks, config) * base.kratom_user
        joint = []
        for nafld, prior in ((0, 1.0 - p_nafld), (1, p_nafld)):
            eta0 = reaction_log_hazard(base, base.mitragynine_mg_day, nafld, config)
            u0 = (
                np.exp(eta0[:, None] + liver.susceptibility_sd * z[None, :])
                * base.kratom_user[:, None]
            )
            joint.append(prior[:, None] * g[None, :] * np.exp(-u0 * pre[:, None]))
        total = joint[0].sum(axis=1) + joint[1].sum(axis=1)
        worlds = dose_worlds(config, intervention)
        rows = np.flatnonzero(self.users)
        sub = _rows(base, self.users)
        shapes = [cumulative_shape(sub, world, intervention, config) for world in worlds]
        for nafld, weights in zip((0, 1), joint, strict=True):
            weights = weights / total[:, None]
            pmf = np.zeros((n, fu.weeks + 1))  # pmf[:, w] = P(onset in week w, this nafld)
            if len(rows):
                eta = reaction_log_hazard(
                    base, base.mitragynine_mg_day * dose_factor, nafld, config
                )
                u = np.exp(eta[rows, None] + liver.susceptibility_sd * z[None, :])
                for world, shape in zip(worlds, shapes, strict=True):
                    survival = np.exp(-u[:, :, None] * shape[:, None, :])
                    onset = survival[:, :, :-1] - survival[:, :, 1:]
                    pmf[rows, 1:] += world.probability * np.einsum(
                        "iq,iqw->iw", weights[rows], onset
                    )
            self.parts.append((weights.sum(axis=1), flare_probability(base, nafld, config), pmf))

    def _baseline_quiet(self) -> np.ndarray:
        """P(the baseline level alone stays below grade 2 at every draw up to lab k)."""
        b, sigma = self.base, self.config.liver.lab_variation_sd_log
        quiet = np.ones(b.n)
        for value, uln, threshold in zip(
            (b.alt, b.ast, b.alp), (b.alt_uln, b.ast_uln, b.alp_uln), _THRESHOLD, strict=True
        ):
            ref = np.maximum(value, uln)
            quiet = quiet * norm.cdf((threshold + np.log(ref / value)) / sigma)
        k = len(self.tables.lab_weeks)
        return np.cumprod(np.repeat(quiet[:, None], k, axis=1), axis=1)

    def no_detection(self) -> np.ndarray:
        """P(no new-onset elevation at any draw up to lab k | all labs drawn), (patients, labs)."""
        t, s = self.tables, self.config.liver.symptomatic_stop_probability
        mix = s * t.injury[1] + (1.0 - s) * t.injury[0]  # (weeks + 1, labs)
        result = np.zeros((self.base.n, len(t.lab_weeks)))
        for weight, p_flare, pmf in self.parts:
            flare_quiet = 1.0 - p_flare[:, None] * t.flare[None, :]
            result += flare_quiet * (weight[:, None] - pmf @ mix)
        out: np.ndarray = self._baseline_quiet() * result
        return out

    def event_risk(self, horizon: int, enrolled: np.ndarray) -> np.ndarray:
        """P(new-onset elevation detected by ``horizon`` weeks | record), given
        ``enrolled[i, w]`` = P(patient i still in treatment at week w), labs drawn only then."""
        labs = self.tables.lab_weeks
        quiet = np.c_[np.ones(self.base.n), self.no_detection()]  # column 0: no draw at all
        k_h = int(np.searchsorted(labs, horizon, side="right"))
        att = enrolled[:, labs[:k_h]]  # P(enrolled at each lab up to the horizon)
        last = np.c_[1.0 - att[:, :1], att[:, :-1] - att[:, 1:], att[:, -1:]] if k_h else None
        if last is None:
            return np.zeros(self.base.n)
        risk: np.ndarray = (last * (1.0 - quiet[:, : k_h + 1])).sum(axis=1)
        return risk

    def stop_survival(self) -> np.ndarray:
        """P(still taking kratom after week v | record, in treatment), v = 0..weeks."""
        cfg = self.config
        weeks = cfg.follow_up.weeks
        t, s = self.tables, cfg.liver.symptomatic_stop_probability
        stop_p = cfg.liver.stop_on_detection_probability
        labs = t.lab_weeks
        lab_of = np.searchsorted(labs, np.arange(weeks + 1), side="right") - 1  # -1: none yet
        onset_weeks = np.arange(weeks + 1)
        base_quiet = np.c_[np.ones(self.base.n), self._baseline_quiet()][:, lab_of + 1]
        det0 = np.c_[np.zeros((weeks + 1, 1)), t.injury[0]][:, lab_of + 1]  # (onset w, week v)
        sym = (onset_weeks[:, None] <= np.arange(weeks + 1)[None, :]) & (onset_weeks[:, None] > 0)
        x = s * sym + (1.0 - s) * det0
        y = s * sym
        flare_det = np.r_[0.0, t.flare][lab_of + 1]
        a = np.zeros((self.base.n, weeks + 1))
        b = np.zeros((self.base.n, weeks + 1))
        for weight, p_flare, pmf in self.parts:
            a += (1.0 - p_flare[:, None] * flare_det[None, :]) * (weight[:, None] - pmf @ x)
            b += weight[:, None] - pmf @ y
        a *= base_quiet
        survival: np.ndarray = np.where(self.users[:, None], a + (1.0 - stop_p) * (b - a), 1.0)
        return survival


@dataclass
class LiverCourse:
    """One simulated liver course per patient: latent draws, lab values and derived events."""

    susceptibility: np.ndarray
    reaction: np.ndarray  # a kratom reaction began while kratom was taken
    injury_onset_day: np.ndarray  # day after entry (NaN: none)
    latency_days: np.ndarray  # days from the last trigger (start or increase) to onset
    symptomatic: np.ndarray
    flare: np.ndarray
    flare_onset_day: np.ndarray
    detection_week: np.ndarray  # first lab week with a new-onset elevation (inf: none)
    detection_cause: np.ndarray  # 'kratom', 'background_flare', 'baseline_fluctuation' or None
    stop_week: np.ndarray  # week after which kratom was stopped (inf: never)
    increase_week: np.ndarray  # review week of a dose increase (inf: none)
    labs: dict[str, np.ndarray]  # analyte -> (patients, lab weeks incl. week 0); NaN: not drawn
    injury_level: np.ndarray  # (patients, weeks + 1) latent injury ALT multiple, for symptoms
    bilirubin_mg_dl: np.ndarray  # (patients, weeks + 1) latent bilirubin, for jaundice


def simulate_liver(
    rng: np.random.Generator,
    base: Baseline,
    nafld: np.ndarray,
    susceptibility: np.ndarray,
    enrolled: np.ndarray,
    labs0: dict[str, np.ndarray],
    config: GeneratorConfig,
    intervention: Intervention | None = None,
) -> LiverCourse:
    """Simulate each patient's liver course and the lab draws they attend (week 0 = entry).

    ``base`` is the complete record (the mechanism sees true values); ``labs0`` the complete
    entry labs and ULNs; ``enrolled[i, w]`` whether patient i is still in treatment at week w."""
    n, fu, liver = base.n, config.follow_up, config.liver
    weeks = fu.weeks
    inj, fl = liver.kratom_injury, liver.background_flare
    sigma = liver.lab_variation_sd_log
    factor = 1.0 if intervention is None else intervention.dose_factor
    users = base.kratom_user & (factor > 0)

    # the dose course and the reaction's onset under it (one draw per patient)
    worlds = dose_worlds(config, intervention)
    pick = rng.choice(len(worlds), size=n, p=[w.probability for w in worlds])
    shape = np.zeros((n, weeks + 1))
    for j, world in enumerate(worlds):
        rows = pick == j
        if rows.any():
            shape[rows] = cumulative_shape(_rows(base, rows), world, intervention, config)
    review = np.array([w.review_week for w in worlds], dtype=float)[pick]
    eta = reaction_log_hazard(base, base.mitragynine_mg_day * factor, nafld, config)
    u = np.exp(eta + liver.susceptibility_sd * susceptibility) * users
    survival = np.exp(-u[:, None] * shape)
    draw = rng.random(n)
    reacts = survival[:, -1] < draw
    onset_week = np.where(reacts, np.argmax(survival <= draw[:, None], axis=1), np.inf)
    onset_day = 7.0 * (onset_week - 1.0) + 7.0 * rng.random(n)
    restart = intervention is not None and factor > 1.0
    start_day = np.zeros(n) if restart else -7.0 * base.use_weeks
    after_increase = (review > 0) & (onset_week > review)
    latency = onset_day - np.where(after_increase, 7.0 * review, start_day)
    symptomatic = rng.random(n) < liver.symptomatic_stop_probability

    flare = rng.random(n) < flare_probability(base, nafld, config)
    flare_day = rng.uniform(0.0, 7.0 * weeks, n)
    flare_week = np.maximum(np.ceil(flare_day / 7.0), 1.0)

    def lognormal(median: float, sd_log: float) -> np.ndarray:
        draws: np.ndarray = median * np.exp(sd_log * rng.standard_normal(n))
        return draws

    def bilirubin_peak(alt_peak: np.ndarray, r: np.ndarray) -> np.ndarray:
        tie = liver.bilirubin_with_cholestasis
        alp = enzyme_levels(alt_peak, r, config)[2]
        spread = np.exp(tie["sd_log"] * rng.standard_normal(n))
        return np.minimum(
            1.0 + tie["per_alp_xuln"] * np.maximum(alp - 1.0, 0.0) * spread,
            liver.bilirubin_peak_max_xuln,
        )

    inj_peak = lognormal(inj.alt_peak_xuln.median, inj.alt_peak_xuln.sd_log)
    inj_r = lognormal(inj.r_ratio.median, inj.r_ratio.sd_log)
    inj_bili = bilirubin_peak(inj_peak, inj_r)
    fl_peak = lognormal(fl.alt_peak_xuln.median, fl.alt_peak_xuln.sd_log)
    fl_r = lognormal(fl.r_ratio.median, fl.r_ratio.sd_log)
    fl_bili = bilirubin_peak(fl_peak, fl_r)

    baseline = {k: labs0[k] for k in ("alt", "ast", "alp", "bilirubin")}
    ref = {k: np.maximum(labs0[k], labs0[f"{k}_uln"]) for k in baseline}
    lab_weeks = [0, *fu.post_baseline_lab_weeks]
    names = ("alt", "ast", "alp", "bilirubin", "ggt", "albumin", "inr", "platelets")
    labs = {k: np.full((n, len(lab_weeks)), np.nan) for k in names}
    for k in names:
        labs[k][:, 0] = labs0[k]
    detection = np.full(n, np.inf)
    cause = np.full(n, None, dtype=object)
    stop = np.full(n, np.inf)  # stop after a detection
    thresholds = dict(zip(ENZYMES, np.exp(_THRESHOLD), strict=True))

    def course(exposed: np.ndarray, week: float | np.ndarray) -> tuple[np.ndarray, ...]:
        """Injury and flare levels (reference multiples) at ``week``."""
        inj_stop = np.where(symptomatic, np.minimum(stop, onset_week), stop)
        inj_alt = np.where(
            exposed, level_at(inj_peak, onset_week, inj_stop, week, inj.half_life_weeks), 0.0
        )
        inj_b = np.where(
            exposed, level_at(inj_bili, onset_week, inj_stop, week, inj.half_life_weeks), 0.0
        )
        fl_alt = np.where(
            flare, level_at(fl_peak, flare_week, flare_week, week, fl.half_life_weeks), 0.0
        )
        fl_b = np.where(
            flare, level_at(fl_bili, flare_week, flare_week, week, fl.half_life_weeks), 0.0
        )
        return inj_alt, inj_b, fl_alt, fl_b

    for j, week in enumerate(lab_weeks[1:], start=1):
        exposed = reacts & (onset_week <= stop)  # a reaction needs kratom at its onset
        inj_alt, inj_b, fl_alt, fl_b = course(exposed, week)
        sources = {
            "baseline_fluctuation": {t: baseline[t] / ref[t] for t in ENZYMES},
            "kratom": dict(zip(ENZYMES, enzyme_levels(inj_alt, inj_r, config), strict=True)),
            "background_flare": dict(
                zip(ENZYMES, enzyme_levels(fl_alt, fl_r, config), strict=True)
            ),
        }
        drawn = enrolled[:, week]
        above: dict[str, np.ndarray] = {}
        values: dict[str, np.ndarray] = {}
        for t in ENZYMES:
            noisy = np.stack(
                [s[t] * np.exp(sigma * rng.standard_normal(n)) for s in sources.values()]
            )
            values[t] = ref[t] * noisy.max(axis=0)
            for name, level in zip(sources, noisy, strict=True):
                above[name] = above.get(name, np.zeros(n, bool)) | (level > thresholds[t])
        bili_x = np.maximum.reduce(
            [baseline["bilirubin"] / ref["bilirubin"], inj_b, fl_b]
        ) * np.exp(sigma * rng.standard_normal(n))
        new = drawn & np.isinf(detection) & np.logical_or.reduce(list(above.values()))
        detection[new] = week
        for name in ("baseline_fluctuation", "background_flare", "kratom"):  # kratom wins ties
            cause[new & above[name]] = name
        on_kratom = users & np.isinf(stop) & ~(exposed & symptomatic & (onset_week <= week))
        stops = new & on_kratom & (rng.random(n) < liver.stop_on_detection_probability)
        stop[stops] = week  # later draws see the stop; this draw shows the level reached

        noise = np.exp(rng.standard_normal((3, n)) * sigma)
        alp_x = values["alp"] / labs0["alp_uln"]
        row = {
            "alt": values["alt"],
            "ast": values["ast"],
            "alp": values["alp"],
            "bilirubin": ref["bilirubin"] * bili_x,
            "ggt": np.maximum(
                labs0["ggt"], labs0["ggt_uln"] * liver.ggt_to_alp_in_injury * alp_x * (alp_x > 1)
            )
            * noise[0],
            "inr": labs0["inr"]
            + liver.inr_rise_per_bilirubin_xuln
            * np.maximum(ref["bilirubin"] * bili_x / labs0["bilirubin_uln"] - 1.0, 0.0)
            + 0.03 * rng.standard_normal(n),
            "albumin": labs0["albumin"] + 0.15 * rng.standard_normal(n),
            "platelets": labs0["platelets"] * noise[1],
        }
        for k in names:
            labs[k][:, j] = np.where(drawn, row[k], np.nan)

    exposed = reacts & (onset_week <= stop)
    final_stop = np.where(exposed & symptomatic, np.minimum(stop, onset_week), stop)
    final_stop = np.where(users, final_stop, np.inf)
    increased = (review > 0) & users & (final_stop >= review)
    all_weeks = np.arange(weeks + 1, dtype=float)[None, :]

    def weekly(peak: np.ndarray) -> np.ndarray:
        level = level_at(
            peak[:, None], onset_week[:, None], final_stop[:, None], all_weeks, inj.half_life_weeks
        )
        return np.where(exposed[:, None], level, 0.0)

    inj_alt, inj_b = weekly(inj_peak), weekly(inj_bili)
    bili_weekly = np.maximum(labs0["bilirubin"][:, None], ref["bilirubin"][:, None] * inj_b)
    return LiverCourse(
        susceptibility=susceptibility,
        reaction=exposed,
        injury_onset_day=np.where(exposed, onset_day, np.nan),
        latency_days=np.where(exposed, latency, np.nan),
        symptomatic=exposed & symptomatic,
        flare=flare,
        flare_onset_day=np.where(flare, flare_day, np.nan),
        detection_week=detection,
        detection_cause=cause,
        stop_week=final_stop,
        increase_week=np.where(increased, review, np.inf),
        labs=labs,
        injury_level=inj_alt,
        bilirubin_mg_dl=bili_weekly,
    )


def _rows(base: Baseline, rows: np.ndarray) -> Baseline:
    """A view of ``base`` restricted to ``rows`` (only the fields the dose course reads)."""
    view = Baseline.__new__(Baseline)
    view.n = int(np.count_nonzero(rows))
    view.use_weeks = base.use_weeks[rows]
    return view
