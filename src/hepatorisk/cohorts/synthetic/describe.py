"""Table 1 and the published calibration targets of a synthetic cohort.

Each target names its source (``clinical-facts.md`` section, ``synthetic-cohort-design.md``, or a
figure computed from the vendored CTN-0094 data) and a tolerance that allows for the sampling
error of a 20,000-patient cohort (the README's main command) plus the spread between sources.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from hepatorisk.cohorts.describe import Description, Section, Target
from hepatorisk.cohorts.synthetic.effect import dose_effects
from hepatorisk.cohorts.synthetic.generate import SyntheticCohort, load_cohort, true_risks
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.cohorts.synthetic.tables import OUTCOMES, PATIENTS
from hepatorisk.cohorts.table_one import Variable, table_one
from hepatorisk.contracts import iter_table

__all__ = ["cohort_targets", "describe"]

_VARIABLES = (
    Variable("Age", "age", "continuous", "years"),
    Variable("Men", "male", "binary"),
    Variable("Race/ethnicity", "race_ethnicity", "categorical"),
    Variable("BMI", "bmi", "continuous", "kg/m2"),
    Variable("Injects drugs", "injection_drug_use", "binary"),
    Variable("Heroin/illicit opioid days of past 30", "heroin_days_30", "continuous", "days"),
    Variable("Cocaine/stimulant use", "cocaine_use", "binary"),
    Variable("Anti-HCV positive", "hcv_antibody", "binary"),
    Variable("HBsAg positive", "hbv_surface_antigen", "binary"),
    Variable("AUDIT-C positive", "alcohol_positive", "binary"),
    Variable("Pain at entry", "chronic_pain", "binary"),
    Variable("Uses kratom", "kratom_user", "binary"),
    Variable("Kratom dose (users)", "dose_users", "continuous", "g/day", count_missing=False),
    Variable("Baseline ALT", "alt_xuln", "continuous", "x ULN"),
    Variable("Prevalent liver abnormality at entry", "prevalent", "binary"),
    Variable("New-onset liver event by week 12", "liver_event_12w", "binary"),
    Variable("New-onset liver event by week 24", "liver_event_24w", "binary"),
    Variable("Relapse by week 12", "relapse_12w", "binary"),
    Variable("Relapse by week 24", "relapse_24w", "binary"),
)


def describe(directory: Path) -> Description:
    """Table 1, the dose effects and the targets. A partitioned cohort (``cohort generate
    --scheduler``) is read one part at a time: Table 1 from each part's patient-level columns
    (never the visits or latent tables whole), the targets and dose effects from its first part,
    itself a cohort of one chunk (20,000 patients: the size the tolerances are set for)."""
    if (directory / "patients.parquet").is_dir():
        cohort = load_cohort(directory, part=0)
        frame = pd.concat(
            [
                _analysis_frame(patients, outcomes, cohort.config)
                for patients, outcomes in zip(
                    iter_table(directory / "patients.parquet", PATIENTS),
                    iter_table(directory / "outcomes.parquet", OUTCOMES),
                    strict=True,
                )
            ],
            ignore_index=True,
        )
        scope = f"; targets and dose effects from its first part, {len(cohort.patients):,} patients"
    else:
        cohort = load_cohort(directory)
        frame = _analysis_frame(cohort.patients, cohort.outcomes, cohort.config)
        scope = ""
    n = len(frame)
    description = Description(
        title=f"Synthetic kratom-therapy cohort ({n:,} patients, scenario "
        f"{cohort.config.scenario}, {directory}{scope})"
    )
    description.sections.append(
        Section("Table 1 by MOUD arm", table_one(frame, _VARIABLES, by="moud_arm"))
    )
    effects = dose_effects(cohort)
    description.sections.append(
        Section(
            "Kratom dose: true effect vs naive association (users; mean change in risk)",
            effects.round(4),
            "true: each user's risk with the dose set from entry on (no later change) minus "
            "with the recorded dose kept; naive: non-users minus users (stop), or an unadjusted "
            "logistic regression on log2 mitragynine among users (half, 1.5x)",
        )
    )
    description.targets = cohort_targets(cohort, effects)
    return description


def _analysis_frame(p: pd.DataFrame, o: pd.DataFrame, config: GeneratorConfig) -> pd.DataFrame:
    """The patient-level columns of Table 1 (from the patients and outcomes tables)."""
    pop = config.population
    male = p["sex"] == "male"
    cutoff = np.where(male, pop.audit_c_positive_men, pop.audit_c_positive_women)
    user = p["kratom_product"] != "none"
    return pd.DataFrame(
        {
            "age": p["age"],
            "male": male,
            "race_ethnicity": p["race_ethnicity"],
            "bmi": p["bmi"],
            "injection_drug_use": p["injection_drug_use"],
            "heroin_days_30": p["heroin_days_30"],
            "cocaine_use": p["cocaine_use"],
            "hcv_antibody": p["hcv_antibody"],
            "hbv_surface_antigen": p["hbv_surface_antigen"],
            "alcohol_positive": p["audit_c"] >= cutoff,
            "chronic_pain": p["chronic_pain"],
            "kratom_user": user,
            "dose_users": p["kratom_dose_g_day"].where(user),
            "alt_xuln": p["alt_u_l"] / p["alt_uln_u_l"],
            "prevalent": o["prevalent_liver_abnormality"],
            "liver_event_12w": o["liver_event_12w"],
            "liver_event_24w": o["liver_event_24w"],
            "relapse_12w": o["relapse_12w"],
            "relapse_24w": o["relapse_24w"],
            "moud_arm": p["moud_arm"],
        }
    )


def _flag(series: pd.Series) -> np.ndarray:
    """A yes/no column as floats, NaN where unknown (never read as no)."""
    values: np.ndarray = series.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return values


def _rate(values: np.ndarray, mask: np.ndarray | None = None) -> float:
    v = values if mask is None else values[mask]
    v = v[~np.isnan(v)]
    return float(np.mean(v)) if len(v) else float("nan")


def cohort_targets(cohort: SyntheticCohort, effects: pd.DataFrame | None = None) -> list[Target]:
    """Every calibration target with its observed value (``effects``: ``dose_effects``)."""
    p, o, latent, v = cohort.patients, cohort.outcomes, cohort.latent, cohort.visits
    cfg = cohort.config
    inject = latent["true_injection_drug_use"].to_numpy(dtype=bool)
    users = (p["kratom_product"] != "none").to_numpy()
    cause = latent["liver_event_cause"].astype("string").fillna("").to_numpy()
    event24 = _flag(o["liver_event_24w"])
    kratom_event = (event24 == 1) & (cause == "kratom")
    pattern = o["injury_pattern"].astype("string")[kratom_event]
    dose = p["kratom_dose_g_day"].to_numpy(dtype=float)[users]
    latency = latent["kratom_latency_days"].to_numpy(dtype=float)
    reaction = latent["kratom_reaction"].to_numpy(dtype=bool)
    arm = p["moud_arm"].astype("string").to_numpy()
    relapse24 = o["relapse_24w"].to_numpy(dtype=bool)
    early = _first_weeks_pattern(v, o, weeks=3)
    bili = o["bili_peak_xuln"].to_numpy(dtype=float)
    jaundiced_kratom = reaction & (bili > 2.5) & (cause == "kratom")
    alt_peak = o["alt_peak_xuln"].to_numpy(dtype=float)
    big = (event24 == 1) & (alt_peak > 5.0 * np.maximum(1.0, p["alt_u_l"] / p["alt_uln_u_l"]))
    viral = (p["hcv_antibody"] | p["hbv_surface_antigen"]).to_numpy(dtype=bool)
    stayed = latent["dropout_week"].isna().to_numpy()
    failed = latent["induction_failed"].to_numpy(dtype=bool)
    week12 = v[v["week"] == 12].set_index("patient_id")["alt_u_l"].reindex(p["patient_id"])
    dose_all = p["kratom_dose_g_day"].to_numpy(dtype=float)
    typical = users & (dose_all <= (np.quantile(dose, 0.9) if len(dose) else 0.0))
    alt12 = week12.to_numpy(dtype=float)
    counterfactual = _arm_contrasts(cohort)
    labs_at_missed = int(v.loc[~v["attended"].to_numpy(dtype=bool), "alt_u_l"].notna().sum())

    def share(mask: np.ndarray | pd.Series) -> float:
        return float(np.mean(mask)) if len(mask) else float("nan")

    targets = [
        Target("mean age (years)", "35.3", "design: Luo 2024", float(p["age"].mean()), 34.3, 36.3),
        Target("men", "0.669", "design: Luo 2024", share(p["sex"] == "male"), 0.64, 0.70),
        Target(
            "injects drugs (true, recorded or not)",
            "0.374",
            "CTN-0094 computed: ASI IV use",
            share(inject),
            0.34,
            0.41,
        ),
        Target(
            "anti-HCV among injectors",
            "0.523",
            "CF §3: Degenhardt 2017",
            share(p["hcv_antibody"].to_numpy(dtype=bool)[inject]),
            0.47,
            0.57,
        ),
        Target(
            "HBsAg among injectors",
            "0.091",
            "CF §3: Degenhardt 2017",
            share(p["hbv_surface_antigen"].to_numpy(dtype=bool)[inject]),
            0.06,
            0.12,
        ),
        Target(
            "fatty liver (latent)",
            "0.19",
            "CF §3: NAFLD 19.0% of US adults",
            share(latent["nafld"]),
            0.15,
            0.23,
        ),
        Target(
            "baseline ALT <= 2x ULN",
            "about 0.90",
            "CF §3: START",
            share(p["alt_u_l"] <= 2 * p["alt_uln_u_l"]),
            0.86,
            0.96,
        ),
        Target(
            "prevalent abnormality at entry (grade >= 2 ALT, AST or ALP)",
            "a few percent",
            "CF §3: START, ~90% enter with ALT/AST <= 2x ULN; band assumption",
            share(o["prevalent_liver_abnormality"]),
            0.003,
            0.04,
        ),
        Target(
            "missing by design: housing, employment, injection",
            "0.444",
            "CTN-0094 computed (CTN-0027 did not collect them)",
            share(p["stable_housing"].isna()),
            0.42,
            0.47,
        ),
        Target(
            "pain at entry missing",
            "0.101",
            "CTN-0094 computed",
            share(p["chronic_pain"].isna()),
            0.085,
            0.12,
        ),
        Target(
            "INR missing at entry",
            f"{cfg.population.missing_at_random['inr']:.2f}",
            "assumption: INR often not ordered",
            share(p["inr"].isna()),
            cfg.population.missing_at_random["inr"] - 0.03,
            cfg.population.missing_at_random["inr"] + 0.03,
        ),
        Target("lab values at missed visits", "0", "issue 12", labs_at_missed, 0, 0),
        Target("kratom users", "0.40", "kratom.user_share_target", share(users), 0.36, 0.44),
        Target(
            "users - non-users: untreated craving (VAS)",
            "users higher",
            "confounding by indication (CF §4: Garcia-Romeu 2020, Smith & Lawson 2017)",
            _diff(latent["craving_need"].to_numpy(dtype=float), users),
            2.0,
            20.0,
        ),
        Target(
            "users - non-users: recorded entry craving (VAS)",
            "smaller than untreated",
            "issue 12: users' entry scores reflect the kratom they take",
            _diff(p["craving_entry"].to_numpy(dtype=float), users),
            -15.0,
            _diff(latent["craving_need"].to_numpy(dtype=float), users),
        ),
        Target(
            "users - non-users: pain at entry",
            "users more",
            "CF §4: Grundmann 2017, pain the commonest reason (68%)",
            _diff(_flag(latent["true_chronic_pain"]), users),
            0.03,
            0.30,
        ),
        Target(
            "kratom injury latency from start or increase, median days",
            "20.6 (14-22)",
            "CF §1: Schimmel & Dart 2020; DILIN 14 d, 22 d",
            float(np.nanmedian(latency[reaction])) if reaction.any() else float("nan"),
            14.0,
            25.0,
        ),
        Target(
            "kratom reactions within 8 weeks of the trigger",
            "almost all",
            "CF §1: LiverTox onset 1-8 weeks; range 2-49 d",
            share(latency[reaction] <= 56),
            0.95,
            1.0,
        ),
        Target(
            "kratom new-onset elevations by week 24 per 100 users",
            "about 1 (central)",
            "scenario central (assumption bounded by CF §1, §2, §4; see kratom_effects)",
            100 * share(kratom_event[users]),
            0.3,
            2.0,
        ),
        Target(
            "jaundiced kratom injuries (bilirubin > 2.5x ULN) per 1,000 users in 24 weeks",
            "at most about 1",
            "CF §1: DILIN 11 cases; CF §4: 0.65% toxicity, all causes; CF §2: 19/100,000/year",
            1000 * share(jaundiced_kratom[users]),
            0.0,
            1.0,
        ),
        Target(
            "R ratio at kratom events, median",
            "3.0-3.4",
            "CF §1: Schimmel & Dart 2020 (3.4); DILIN (3.0)",
            float(np.nanmedian(o["r_ratio_onset"].to_numpy(dtype=float)[kratom_event])),
            2.5,
            4.0,
        ),
        Target(
            "cholestatic or mixed among kratom events",
            "mostly",
            "CF §1: review of 53 cases 80% cholestatic; biochemistry mixed (Schimmel)",
            share(pattern.isin(["cholestatic", "mixed"]).to_numpy(dtype=bool)),
            0.60,
            0.95,
        ),
        Target(
            "Hy's law among new-onset events",
            "rare",
            "CF §1: DILIN kratom cases mixed/cholestatic, i.e. rarely Hy's law",
            share(o["hys_law"].to_numpy(dtype=bool)[event24 == 1]),
            0.0,
            0.05,
        ),
        Target(
            "non-users: new-onset > 5x elevation by week 24",
            "24/731 = 0.033",
            "CF §3: START extreme elevations",
            share(big[~users & ~np.isnan(event24)]),
            0.020,
            0.046,
        ),
        Target(
            "non-users: > 5x elevation, HCV/HBV positive vs negative (risk ratio)",
            "the main predictor",
            "CF §3: START, baseline HCV/HBV the only predictor",
            _ratio(big, viral, ~users & ~np.isnan(event24)),
            3.0,
            30.0,
        ),
        Target(
            "week-12 mean ALT, users (up to the 90th dose centile) - non-users (U/L)",
            "no difference",
            "CF §1: Malaysian users, no chemistry difference at 76-115 mg/day",
            _diff(alt12, users, typical),
            -2.0,
            2.0,
        ),
        Target(
            "24-week retention, methadone",
            "0.74",
            "CF §4: START",
            share(stayed[arm == "methadone"]),
            0.69,
            0.79,
        ),
        Target(
            "24-week retention, buprenorphine",
            "0.46",
            "CF §4: START",
            share(stayed[arm == "buprenorphine"]),
            0.41,
            0.51,
        ),
        Target(
            "induction failure, XR-naltrexone",
            "0.28",
            "CF §4: X:BOT",
            share(failed[arm == "xr_naltrexone"]),
            0.24,
            0.32,
        ),
        Target(
            "induction failure, buprenorphine",
            "0.06",
            "CF §4: X:BOT",
            share(failed[arm == "buprenorphine"]),
            0.04,
            0.08,
        ),
        Target(
            "relapse by week 24, methadone",
            "0.682",
            "CTN-0094 computed: CTN-0027 methadone (CTNote RsE)",
            share(relapse24[arm == "methadone"]),
            0.63,
            0.73,
        ),
        Target(
            "same patients: buprenorphine - methadone, relapse by 24 w",
            "+0.077",
            "CTN-0094 computed: CTN-0027 75.9% vs 68.2%",
            counterfactual["buprenorphine"] - counterfactual["methadone"],
            0.03,
            0.13,
        ),
        Target(
            "same patients: XR-naltrexone - buprenorphine, relapse by 24 w",
            "+0.090",
            "CTN-0094 computed: CTN-0051 67.5% vs 58.5%; CF §4 X:BOT HR 1.36",
            counterfactual["xr_naltrexone"] - counterfactual["buprenorphine"],
            0.04,
            0.14,
        ),
        Target(
            "relapse by week 12 after 3 negative weeks",
            "0.13",
            "CF §4: Luo 2023",
            early["negative"],
            0.08,
            0.18,
        ),
        Target(
            "relapse by week 12 after 3 positive/missing weeks",
            "0.85",
            "CF §4: Luo 2023",
            early["positive_or_missing"],
            0.80,
            0.90,
        ),
        Target(
            "kratom dose, median g/day (users)",
            "about 4-12",
            "CF §1: 1-2 tsp twice daily to 4-6 tsp (1 tsp 2-3 g)",
            float(np.median(dose)) if len(dose) else float("nan"),
            2.0,
            12.0,
        ),
        Target(
            "kratom dose, 95th percentile g/day",
            "up to 30-35",
            "CF §1: case reports",
            float(np.quantile(dose, 0.95)) if len(dose) else float("nan"),
            10.0,
            35.0,
        ),
        Target(
            "oracle AUROC, liver_event_12w (new onset)",
            "not trivially separable",
            "issue 2: clinically plausible band (assumption)",
            _auroc(o["liver_event_12w"], o["p_liver_true"]),
            0.60,
            0.95,
        ),
        Target(
            "oracle AUROC, relapse_12w",
            "above Luo's entry model 0.67",
            "CF §4: Luo 2023 entry AUROC 0.67; band assumption",
            _auroc(o["relapse_12w"], o["p_relapse_true"]),
            0.65,
            0.85,
        ),
    ]
    if effects is not None:
        targets.append(
            Target(
                "association is not effect: largest |naive - true| dose change",
                "not zero",
                "issue 12: use and dose follow need, and a dose increase restarts the latency",
                float(effects["naive - true"].abs().max()),
                0.01,
                1.0,
            )
        )
    return targets


def _diff(values: np.ndarray, users: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean among users (within ``mask``) minus mean among non-users; NaN values left out."""
    in_users = users if mask is None else mask
    return _rate(values, in_users) - _rate(values, ~users)


def _ratio(flags: np.ndarray, exposed: np.ndarray, within: np.ndarray) -> float:
    a, b = (
        _rate(flags.astype(float), exposed & within),
        _rate(flags.astype(float), ~exposed & within),
    )
    return a / b if b > 0 else float("nan")


def _arm_contrasts(cohort: SyntheticCohort) -> dict[str, float]:
    """Mean true relapse_24w risk of the same patients under each arm (arm changed only)."""
    result = {}
    for arm in ("methadone", "buprenorphine", "xr_naltrexone"):
        edited = cohort.patients.assign(moud_arm=arm)
        result[arm] = float(true_risks(edited, cohort.config)["p_relapse_24w_true"].mean())
    return result


def _first_weeks_pattern(
    visits: pd.DataFrame, outcomes: pd.DataFrame, weeks: int
) -> dict[str, float]:
    """Relapse by week 12 among patients whose first ``weeks`` screens were all negative,
    and among those whose were all positive or missing (Luo 2023's contrast)."""
    early = visits[(visits["week"] >= 1) & (visits["week"] <= weeks)]
    negative = (early["uds_opioid"] == "negative").groupby(early["patient_id"]).sum()
    relapse = outcomes.set_index("patient_id")["relapse_12w"].astype(bool)
    all_neg = negative.index[negative == weeks]
    all_bad = negative.index[negative == 0]
    return {
        "negative": float(relapse.loc[all_neg].mean()) if len(all_neg) else float("nan"),
        "positive_or_missing": float(relapse.loc[all_bad].mean()) if len(all_bad) else float("nan"),
    }


def _auroc(y: pd.Series, p: pd.Series) -> float:
    labels, scores = _flag(y), p.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    known = ~np.isnan(labels) & ~np.isnan(scores)
    labels, scores = labels[known].astype(bool), scores[known]
    if not 0 < labels.sum() < len(labels):
        return np.nan
    return float(roc_auc_score(labels, scores))
