"""Baseline records: who enters treatment, their exposures and their liver tests at week 0.

Everything drawn here is recorded in ``patients.parquet`` except fatty liver (``nafld``), which is
latent: it shifts the baseline liver tests, so the oracle conditions on it through its posterior
(``nafld_posterior``) rather than pretending it is known.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import expit
from scipy.stats import norm

from hepatorisk.cohorts.synthetic.params import GeneratorConfig, Population, Range

__all__ = ["Baseline", "draw_baseline", "nafld_posterior", "nafld_prior_logit"]

SEXES = ("female", "male")
PRODUCTS = ("none", "leaf_powder", "extract", "tablet")


class Baseline:
    """Numeric views of a patients table that the mechanisms need (one definition of each)."""

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
        self.injection = p["injection_drug_use"].to_numpy(dtype=bool)
        self.heroin_days = p["heroin_days_30"].to_numpy(dtype=float)
        self.cocaine = p["cocaine_use"].to_numpy(dtype=bool)
        self.unstable_housing = ~p["stable_housing"].to_numpy(dtype=bool)
        self.unemployed = ~p["employed"].to_numpy(dtype=bool)
        self.prior_treatments = p["prior_treatments"].to_numpy(dtype=float)
        self.arm = p["moud_arm"].astype("string").to_numpy(dtype=object)
        self.uds_entry_positive = (p["uds_opioid_entry"] == "positive").to_numpy()
        self.cows_entry = p["cows_entry"].to_numpy(dtype=float)
        self.craving_entry = p["craving_entry"].to_numpy(dtype=float)
        self.kratom_user = (p["kratom_product"] != "none").to_numpy()
        content = p["mitragynine_mg_per_g"].fillna(0.0).to_numpy(dtype=float)
        self.mitragynine_mg_day = p["kratom_dose_g_day"].to_numpy(dtype=float) * content
        self.acetaminophen = p["med_acetaminophen"].to_numpy(dtype=bool)
        self.statin = p["med_statin"].to_numpy(dtype=bool)
        self.other_hepatotoxic = p["med_other_hepatotoxic"].to_numpy(dtype=bool)
        self.cyp_interacting = p["med_cyp_interacting"].to_numpy(dtype=bool)
        self.alt = p["alt_u_l"].to_numpy(dtype=float)
        self.ast = p["ast_u_l"].to_numpy(dtype=float)
        self.ggt = p["ggt_u_l"].to_numpy(dtype=float)
        self.alt_uln = p["alt_uln_u_l"].to_numpy(dtype=float)


def draw_baseline(
    rng: np.random.Generator, n: int, config: GeneratorConfig
) -> tuple[pd.DataFrame, np.ndarray]:
    """Draw ``n`` baseline records; return the patients table (without ids) and latent NAFLD."""
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
            "prior_treatments": np.minimum(
                rng.poisson(pop.prior_treatment_mean, n), pop.prior_treatment_max
            ),
            "moud_arm": arm,
            "uds_opioid_entry": np.where(uds_entry, "positive", "negative"),
            "cows_entry": np.rint(_truncated_normal(rng, n, *_range(pop.cows_entry))).astype(int),
            "craving_entry": _truncated_normal(rng, n, *_range(pop.craving_entry)).round(0),
        }
    )
    patients = pd.concat([patients, _kratom(rng, n, config)], axis=1)
    for name, taken in meds.items():
        patients[f"med_{name}"] = taken
    nafld = rng.random(n) < expit(nafld_prior_logit(bmi, diabetes, male, config))
    patients = pd.concat([patients, _labs(rng, patients, nafld, config)], axis=1)
    return patients, nafld


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
    """P(fatty liver | the whole baseline record): prior from BMI, diabetes and sex, updated by
    the baseline ALT, AST and GGT, which fatty liver shifts (exact Bayes, lognormal labs)."""
    log_odds = nafld_prior_logit(base.bmi, base.diabetes, base.male, config)
    labs = config.labs
    for name, values in (("alt", base.alt), ("ast", base.ast), ("ggt", base.ggt)):
        mean0 = _lab_log_mean(name, base.male, base.hcv, base.hbv, base.alcohol_positive, 0, config)
        shift = getattr(labs, f"{name}_log_median")["nafld"]
        sd = labs.lab_sd_log[name]
        x = np.log(values)
        log_odds = log_odds + norm.logpdf(x, mean0 + shift, sd) - norm.logpdf(x, mean0, sd)
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


def _kratom(rng: np.random.Generator, n: int, config: GeneratorConfig) -> pd.DataFrame:
    k = config.kratom
    user = rng.random(n) < k.user_share
    product = np.where(user, _categorical(rng, n, k.product), "none")
    dose = np.zeros(n)
    content = np.full(n, np.nan)
    for name, dist in k.dose_g.items():
        idx = product == name
        m = int(idx.sum())
        dose[idx] = np.clip(
            dist.median * np.exp(dist.sd_log * rng.standard_normal(m)), k.dose_g_min, k.dose_g_max
        )
        lo, hi = k.mitragynine_mg_per_g[name]
        content[idx] = rng.uniform(lo, hi, m)
    return pd.DataFrame(
        {
            "kratom_product": product,
            "kratom_dose_g_day": dose.round(2),
            "mitragynine_mg_per_g": content.round(2),
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
