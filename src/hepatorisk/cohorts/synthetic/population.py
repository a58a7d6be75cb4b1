"""Baseline records: who enters treatment, their exposures and their liver tests at week 0.

Drawn complete first (``draw_baseline``), then recorded with the gaps real records have
(``record_with_gaps``): fields a trial did not collect (missing by design, the same patients lack
all of them) and labs not ordered (missing completely at random). The complete values and fatty
liver (``nafld``) are latent: the mechanisms use them, and the oracle integrates them out given
the record (``nafld_posterior``, ``unknown_field_weights``).

Kratom use is confounded by indication: withdrawal, craving, pain, failed treatment and the lack
of a medication push people to it and to more of it, and the entry scores a user records are
already lowered by the kratom taken (``need_scores`` recovers the untreated level).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from hepatorisk.cohorts.synthetic.params import GeneratorConfig, Population, Range

__all__ = [
    "Baseline",
    "draw_baseline",
    "kratom_effect_fraction",
    "nafld_posterior",
    "nafld_prior_logit",
    "record_with_gaps",
    "unknown_field_weights",
]

SEXES = ("female", "male")
PRODUCTS = ("none", "leaf_powder", "extract", "tablet")
# Fields whose unknown value changes a mechanism (relapse): the oracle averages over them.
RELAPSE_FIELDS = ("injection_drug_use", "stable_housing", "employed")


def kratom_effect_fraction(mitragynine_mg_day: np.ndarray, config: GeneratorConfig) -> np.ndarray:
    """Fraction of kratom's maximal effect on craving and withdrawal at a daily dose (Emax)."""
    ed50 = config.relapse.ed50_mitragynine_mg
    mg = np.asarray(mitragynine_mg_day, dtype=float)
    fraction: np.ndarray = mg / (mg + ed50)
    return fraction


class Baseline:
    """Numeric views of a patients table that the mechanisms need (one definition of each).

    Unknown values stay NaN; the oracle decides how to integrate them, never reads them as 0."""

    def __init__(self, patients: pd.DataFrame, config: GeneratorConfig) -> None:
        p = patients
        pop = config.population
        self.n = len(p)
        self.male = (p["sex"] == "male").to_numpy()
        self.age = p["age"].to_numpy(dtype=float)
        self.bmi = p["bmi"].to_numpy(dtype=float)
        self.diabetes = p["diabetes"].to_numpy(dtype=bool)
        self.hcv = p["hcv_antibody"].to_numpy(dtype=bool)
        self.hbv = p["hbv_surface_antigen"].to_numpy(dtype=bool)
        self.hiv = p["hiv"].to_numpy(dtype=bool)
        audit = p["audit_c"].to_numpy(dtype=int)
        cutoff = np.where(self.male, pop.audit_c_positive_men, pop.audit_c_positive_women)
        self.alcohol_positive = audit >= cutoff
        self.primary_opioid = p["primary_opioid"].astype("string").to_numpy(dtype=object)
        self.injection = _float(p["injection_drug_use"])
        self.heroin_days = p["heroin_days_30"].to_numpy(dtype=float)
        self.cocaine = p["cocaine_use"].to_numpy(dtype=bool)
        self.unstable_housing = 1.0 - _float(p["stable_housing"])
        self.unemployed = 1.0 - _float(p["employed"])
        self.prior_treatments = p["prior_treatments"].to_numpy(dtype=float)
        self.arm = p["moud_arm"].astype("string").to_numpy(dtype=object)
        self.arm_is = {a: self.arm == a for a in config.population.moud_arm}
        self.uds_entry_positive = (p["uds_opioid_entry"] == "positive").to_numpy()
        self.cows_entry = p["cows_entry"].to_numpy(dtype=float)
        self.craving_entry = p["craving_entry"].to_numpy(dtype=float)
        self.kratom_user = (p["kratom_product"] != "none").to_numpy()
        content = p["mitragynine_mg_per_g"].astype("Float64").fillna(0.0).to_numpy(dtype=float)
        self.dose_g = p["kratom_dose_g_day"].to_numpy(dtype=float)
        self.mitragynine_mg_day = self.dose_g * content
        weeks = p["kratom_use_weeks"].astype("Float64").fillna(0.0).to_numpy(dtype=float)
        self.use_weeks = np.where(self.kratom_user, weeks, 0.0)
        self.acetaminophen = p["med_acetaminophen"].to_numpy(dtype=bool)
        self.statin = p["med_statin"].to_numpy(dtype=bool)
        self.other_hepatotoxic = p["med_other_hepatotoxic"].to_numpy(dtype=bool)
        self.cyp_interacting = p["med_cyp_interacting"].to_numpy(dtype=bool)
        self.alt = p["alt_u_l"].to_numpy(dtype=float)
        self.ast = p["ast_u_l"].to_numpy(dtype=float)
        self.alp = p["alp_u_l"].to_numpy(dtype=float)
        self.ggt = _float(p["ggt_u_l"])
        self.alt_uln = p["alt_uln_u_l"].to_numpy(dtype=float)
        self.ast_uln = p["ast_uln_u_l"].to_numpy(dtype=float)
        self.alp_uln = p["alp_uln_u_l"].to_numpy(dtype=float)
        # the untreated withdrawal and craving: entry scores are recorded on the kratom taken
        eff = config.effects
        on = kratom_effect_fraction(self.mitragynine_mg_day, config) * self.kratom_user
        self.cows_need = self.cows_entry / (1.0 - eff.withdrawal_emax * on)
        self.craving_need = self.craving_entry / (1.0 - eff.craving_emax * on)


def _float(series: pd.Series) -> np.ndarray:
    """A yes/no or numeric column as floats, NaN where unknown."""
    values: np.ndarray = series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return values


def draw_baseline(
    rng: np.random.Generator, n: int, config: GeneratorConfig
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` complete baseline records (without ids) and latent fatty liver."""
    pop = config.population
    male = rng.random(n) < pop.male_share
    age = _truncated_normal(rng, n, pop.age.mean, pop.age.sd, pop.age.min, pop.age.max)
    race = _categorical(rng, n, pop.race_ethnicity)
    arm = _categorical(rng, n, pop.moud_arm)
    opioid = _categorical(rng, n, pop.primary_opioid)
    inject = rng.random(n) < _lookup(opioid, pop.injection_by_opioid)
    heroin_days = _heroin_days(rng, opioid, pop)
    bmi = np.clip(
        pop.bmi.median * np.exp(pop.bmi.sd_log * rng.standard_normal(n)), 15.0, 60.0
    ).round(1)
    d = pop.diabetes_logit
    diabetes = rng.random(n) < expit(
        d["intercept"]
        + d["per_bmi_unit"] * (bmi - pop.bmi.median)
        + d["per_10_years"] * (age - 35) / 10
    )
    drinks = rng.random(n) >= pop.audit_c_zero_share
    audit_c = np.where(drinks, rng.binomial(12, pop.audit_c_drinker_p, n), 0)
    key = np.where(inject, "injects", "does_not")
    hcv = rng.random(n) < _lookup(key, pop.hcv_by_injection)
    hbv = rng.random(n) < _lookup(key, pop.hbv_by_injection)
    hiv = rng.random(n) < _lookup(key, pop.hiv_by_injection)
    meds = {name: rng.random(n) < share for name, share in pop.medications.items()}
    u = pop.uds_entry_logit
    uds_entry = rng.random(n) < expit(u["intercept"] + u["per_heroin_day"] * heroin_days)
    prior = np.minimum(rng.poisson(pop.prior_treatment_mean, n), pop.prior_treatment_max)
    pain = rng.random(n) < pop.chronic_pain_share
    cows_need = _truncated_normal(rng, n, *_range(pop.cows_entry))
    craving_need = _truncated_normal(rng, n, *_range(pop.craving_entry))

    patients = pd.DataFrame(
        {
            "age": age.astype(int),
            "sex": np.where(male, "male", "female"),
            "race_ethnicity": race,
            "bmi": bmi,
            "diabetes": diabetes,
            "hcv_antibody": hcv,
            "hbv_surface_antigen": hbv,
            "hiv": hiv,
            "audit_c": audit_c.astype(int),
            "injection_drug_use": inject,
            "primary_opioid": opioid,
            "heroin_days_30": heroin_days.astype(int),
            "cocaine_use": rng.random(n) < pop.cocaine_share,
            "stable_housing": rng.random(n) < pop.stable_housing_share,
            "employed": rng.random(n) < pop.employed_share,
            "prior_treatments": prior,
            "chronic_pain": pain,
            "moud_arm": arm,
            "uds_opioid_entry": np.where(uds_entry, "positive", "negative"),
        }
    )
    kratom = _kratom(rng, n, cows_need, craving_need, pain, prior, arm, config)
    patients = pd.concat([patients, kratom], axis=1)
    for name, taken in meds.items():
        patients[f"med_{name}"] = taken
    nafld = rng.random(n) < expit(nafld_prior_logit(bmi, diabetes, male, config))
    patients = pd.concat([patients, _labs(rng, patients, nafld, config)], axis=1)
    return patients, nafld


def record_with_gaps(
    rng: np.random.Generator, patients: pd.DataFrame, config: GeneratorConfig
) -> pd.DataFrame:
    """The record as a clinic holds it: by-design and at-random gaps as <NA>."""
    pop = config.population
    n = len(patients)
    recorded = patients.copy()
    by_design = rng.random(n) < pop.missing_by_design.share
    for name in pop.missing_by_design.fields:
        recorded[name] = recorded[name].astype("boolean").mask(by_design)
    for name, share in pop.missing_at_random.items():
        gap = rng.random(n) < share
        kind = pd.BooleanDtype() if recorded[name].dtype == bool else pd.Float64Dtype()
        recorded[name] = recorded[name].astype(kind).mask(gap)
    return recorded


def unknown_field_weights(base: Baseline, config: GeneratorConfig) -> tuple[np.ndarray, np.ndarray]:
    """Every completion of the unknown relapse fields and its probability given the record.

    Returns (values, weights): values[c] = (injection, unstable housing, unemployed) of
    completion c (8 combinations), weights[i, c] = P(completion c | patient i's record). Known
    fields put all the weight on their value. Injection is inferred from the primary opioid and
    the blood-borne infections it causes (exact Bayes); housing and employment are independent of
    the rest of the record, so their posterior is their prior.
    """
    pop = config.population
    combos = np.array([(i, h, e) for i in (0, 1) for h in (0, 1) for e in (0, 1)], dtype=float)
    prior_inject = _lookup(base.primary_opioid, pop.injection_by_opioid)
    like = {}
    for k, key in ((1, "injects"), (0, "does_not")):
        p = np.ones(base.n)
        for marker, table in (
            (base.hcv, pop.hcv_by_injection),
            (base.hbv, pop.hbv_by_injection),
            (base.hiv, pop.hiv_by_injection),
        ):
            p = p * np.where(marker, table[key], 1.0 - table[key])
        like[k] = p * (prior_inject if k else 1.0 - prior_inject)
    p_inject = np.where(np.isnan(base.injection), like[1] / (like[1] + like[0]), base.injection)
    p_unstable = np.where(
        np.isnan(base.unstable_housing), 1.0 - pop.stable_housing_share, base.unstable_housing
    )
    p_unemployed = np.where(np.isnan(base.unemployed), 1.0 - pop.employed_share, base.unemployed)
    weights = np.ones((base.n, len(combos)))
    for col, prob in enumerate((p_inject, p_unstable, p_unemployed)):
        weights *= np.where(combos[None, :, col] == 1, prob[:, None], 1.0 - prob[:, None])
    return combos, weights


def nafld_prior_logit(
    bmi: np.ndarray, diabetes: np.ndarray, male: np.ndarray, config: GeneratorConfig
) -> np.ndarray:
    c = config.liver.nafld_logit
    return (
        c["intercept"]
        + c["per_bmi_unit"] * (bmi - config.population.bmi.median)
        + c["diabetes"] * diabetes
        + c["male"] * male
    )


def nafld_posterior(base: Baseline, config: GeneratorConfig) -> np.ndarray:
    """P(fatty liver | the baseline record): prior from BMI, diabetes and sex, updated by the
    baseline ALT, AST and GGT (when measured), which fatty liver shifts (exact Bayes)."""
    log_odds = nafld_prior_logit(base.bmi, base.diabetes, base.male, config)
    labs = config.labs
    for name, values in (("alt", base.alt), ("ast", base.ast), ("ggt", base.ggt)):
        mean0 = _lab_log_mean(name, base.male, base.hcv, base.hbv, base.alcohol_positive, 0, config)
        shift = getattr(labs, f"{name}_log_median")["nafld"]
        sd = labs.lab_sd_log[name]
        x = np.log(values)
        update = norm.logpdf(x, mean0 + shift, sd) - norm.logpdf(x, mean0, sd)
        log_odds = log_odds + np.where(np.isnan(values), 0.0, update)
    return expit(log_odds)


def _lab_log_mean(
    name: str,
    male: np.ndarray,
    hcv: np.ndarray,
    hbv: np.ndarray,
    alcohol: np.ndarray,
    nafld: np.ndarray | int,
    config: GeneratorConfig,
) -> np.ndarray:
    c: dict[str, float] = getattr(config.labs, f"{name}_log_median")
    return (
        np.where(male, c["male"], c["female"])
        + c["hcv"] * hcv
        + c["hbv"] * hbv
        + c["alcohol_positive"] * alcohol
        + c["nafld"] * nafld
    )


def _labs(
    rng: np.random.Generator, patients: pd.DataFrame, nafld: np.ndarray, config: GeneratorConfig
) -> pd.DataFrame:
    labs = config.labs
    uln = labs.uln
    n = len(patients)
    male = (patients["sex"] == "male").to_numpy()
    hcv = patients["hcv_antibody"].to_numpy()
    hbv = patients["hbv_surface_antigen"].to_numpy()
    cutoff = np.where(
        male, config.population.audit_c_positive_men, config.population.audit_c_positive_women
    )
    alcohol = patients["audit_c"].to_numpy() >= cutoff

    def lognormal_lab(name: str) -> np.ndarray:
        mean = _lab_log_mean(name, male, hcv, hbv, alcohol, nafld, config)
        return np.exp(mean + labs.lab_sd_log[name] * rng.standard_normal(n))

    shift = labs.lab_sd_log
    return pd.DataFrame(
        {
            "alt_u_l": lognormal_lab("alt").round(1),
            "ast_u_l": lognormal_lab("ast").round(1),
            "alp_u_l": (labs.alp.median * np.exp(labs.alp.sd_log * rng.standard_normal(n))).round(
                1
            ),
            "bilirubin_mg_dl": (
                labs.bilirubin.median * np.exp(labs.bilirubin.sd_log * rng.standard_normal(n))
            ).round(2),
            "ggt_u_l": lognormal_lab("ggt").round(1),
            "albumin_g_dl": np.clip(
                labs.albumin.mean
                - shift["hcv_albumin_shift"] * hcv
                + labs.albumin.sd * rng.standard_normal(n),
                labs.albumin.min,
                labs.albumin.max,
            ).round(1),
            "inr": np.clip(
                labs.inr.mean + labs.inr.sd * rng.standard_normal(n), labs.inr.min, labs.inr.max
            ).round(2),
            "platelets_10e9_l": (
                labs.platelets.median
                * np.exp(
                    -shift["hcv_platelet_shift"] * hcv
                    + labs.platelets.sd_log * rng.standard_normal(n)
                )
            ).round(0),
            "alt_uln_u_l": np.where(male, uln["alt_male"], uln["alt_female"]),
            "ast_uln_u_l": np.full(n, uln["ast"]),
            "alp_uln_u_l": np.full(n, uln["alp"]),
            "bilirubin_uln_mg_dl": np.full(n, uln["bilirubin"]),
            "ggt_uln_u_l": np.full(n, uln["ggt"]),
            "albumin_lln_g_dl": np.full(n, uln["albumin_lower"]),
            "inr_uln": np.full(n, uln["inr"]),
            "platelets_lln_10e9_l": np.full(n, uln["platelets_lower"]),
        }
    )


def _kratom(
    rng: np.random.Generator,
    n: int,
    cows_need: np.ndarray,
    craving_need: np.ndarray,
    pain: np.ndarray,
    prior: np.ndarray,
    arm: np.ndarray,
    config: GeneratorConfig,
) -> pd.DataFrame:
    """Who takes kratom, which product, how much and for how long, and the entry scores they
    record on it (confounding by indication, issue 12)."""
    k = config.kratom
    c = k.use_logit
    user = rng.random(n) < expit(
        c["intercept"]
        + c["per_5_cows_need"] * (cows_need - 8.0) / 5
        + c["per_20_craving_need"] * (craving_need - 55.0) / 20
        + c["chronic_pain"] * pain
        + c["per_prior_treatment"] * prior
        + c["no_moud"] * (arm == "none")
    )
    product = np.where(user, _categorical(rng, n, k.product), "none")
    s = k.dose_log_shift
    shift = (
        s["per_5_cows_need"] * (cows_need - 8.0) / 5
        + s["per_20_craving_need"] * (craving_need - 55.0) / 20
        + s["chronic_pain"] * pain
    )
    dose = np.zeros(n)
    content = np.full(n, np.nan)
    for name, dist in k.dose_g.items():
        idx = product == name
        m = int(idx.sum())
        dose[idx] = np.clip(
            dist.median * np.exp(shift[idx] + dist.sd_log * rng.standard_normal(m)),
            k.dose_g_min,
            k.dose_g_max,
        )
        lo, hi = k.mitragynine_mg_per_g[name]
        content[idx] = rng.uniform(lo, hi, m)
    dose, content = dose.round(2), content.round(2)
    weeks = np.clip(
        np.rint(k.use_weeks.median * np.exp(k.use_weeks.sd_log * rng.standard_normal(n))), 1, 1040
    )
    eff = config.effects
    on = kratom_effect_fraction(dose * np.nan_to_num(content), config) * user
    return pd.DataFrame(
        {
            "cows_entry": np.rint(cows_need * (1.0 - eff.withdrawal_emax * on)).astype(int),
            "craving_entry": (craving_need * (1.0 - eff.craving_emax * on)).round(0),
            "kratom_product": product,
            "kratom_dose_g_day": dose,
            "mitragynine_mg_per_g": content,
            "kratom_use_weeks": pd.array(np.where(user, weeks, np.nan)).astype("Int64"),
        }
    )


def _heroin_days(rng: np.random.Generator, opioid: np.ndarray, pop: Population) -> np.ndarray:
    mean = _lookup(opioid, pop.heroin_days_mean_fraction)
    c = pop.heroin_days_concentration
    return rng.binomial(30, rng.beta(mean * c, (1 - mean) * c))


def _categorical(rng: np.random.Generator, n: int, shares: dict[str, float]) -> np.ndarray:
    names = np.array(list(shares), dtype=object)
    probs = np.array(list(shares.values()))
    return names[rng.choice(len(names), size=n, p=probs / probs.sum())]


def _lookup(keys: np.ndarray, table: dict[str, float]) -> np.ndarray:
    return np.array([table[k] for k in keys], dtype=float) if len(keys) else np.zeros(0)


def _range(r: Range) -> tuple[float, float, float, float]:
    return (r.mean, r.sd, r.min, r.max)


def _truncated_normal(
    rng: np.random.Generator, n: int, mean: float, sd: float, lo: float, hi: float
) -> np.ndarray:
    a, b = norm.cdf((lo - mean) / sd), norm.cdf((hi - mean) / sd)
    return mean + sd * norm.ppf(rng.uniform(a, b, n))
