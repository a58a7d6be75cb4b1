"""The patient table: what was known about each randomized patient at treatment entry.

Entry means *on or before the day of randomization* (the randomization day closes study week 0 in
the CTN-0094 convention, see :mod:`.weekly`). Dated records (``tlfb``, ``uds``, ``uds_temp``,
``pain``, ``withdrawal``) are filtered to that window here and nowhere else; undated tables
(demographics, ASI, RBS, RBS-IV, psychiatric history, Fagerstrom) are baseline assessments in the
harmonized data (Balise et al., PLOS One 2024). ``test_ctn0094_leakage`` proves that no record
dated after randomization reaches an entry feature.

Luo et al. (JAMA Psychiatry 2024) built their entry model from four predictors: heroin use days,
baseline urine screens positive for morphine and for cocaine, and heroin injection in the past 30
days. Here they are ``tlfb_heroin_days`` (day-level in all three trials; the RBS is ordinal in
CTN-0051), ``uds_opioid_baseline`` and ``uds_cocaine_baseline`` (the first urine sample of the
entry window, see :data:`BASELINE_WINDOW_START`; the harmonized ``Opioid`` screen groups the
morphine immunoassay with oxycodone and propoxyphene, so morphine alone cannot be told apart) and
``rbs_iv_heroin_days``. :data:`LUO_ENTRY_FEATURES` lists them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepatorisk.cohorts.ctn0094.raw import RawTables

__all__ = [
    "ENTRY_FEATURES",
    "LUO_ENTRY_FEATURES",
    "WEEK3_FEATURES",
    "entry_features",
    "week3_features",
]

TRIALS = {"27": "CTN-0027", "30": "CTN-0030", "51": "CTN-0051"}
RBS_DRUGS = ("heroin", "opioid", "cocaine", "speedball", "speed")
# TLFB substance -> feature; self-reported use days in the 30 days before consent (days -30..-1),
# the baseline TLFB window, which always precedes randomization (day >= 0).
TLFB_GROUPS = {
    "Heroin": "heroin",
    "Opioid": "opioid",
    "Methadone": "methadone",
    "Buprenorphine": "buprenorphine",
    "Cocaine": "cocaine",
    "Amphetamine": "amphetamine",
    "Benzodiazepine": "benzodiazepine",
    "THC": "thc",
    "Alcohol": "alcohol",
}
TLFB_WINDOW = (-30, -1)
UDS_DRUGS = {
    "Opioid": "opioid",
    "Methadone": "methadone",
    "Buprenorphine": "buprenorphine",
    "Cocaine": "cocaine",
    "Amphetamine": "amphetamine",
    "Benzodiazepine": "benzodiazepine",
    "Thc": "thc",
}
# The baseline (intake) urine sample: the first sample dated from day -30 (the start of the weekly
# protocol grid, see :mod:`.weekly`) to the randomization day. Earlier dates (8 CTN-0027 samples,
# up to a year before consent) are not this treatment episode's intake screen.
BASELINE_WINDOW_START = -30
BASELINE_UDS = {"Opioid": "opioid", "Cocaine": "cocaine"}
PSYCH_FLAGS = (
    "has_schizophrenia",
    "has_major_dep",
    "has_bipolar",
    "has_anx_pan",
    "has_brain_damage",
    "has_epilepsy",
    "has_alcol_dx",
    "has_amphetamines_dx",
    "has_cannabis_dx",
    "has_cocaine_dx",
    "has_sedatives_dx",
)
ASI_LITE = ("depression", "anxiety", "schizophrenia")

ENTRY_FEATURES: tuple[str, ...] = (
    "trial",
    "arm",
    "age",
    "is_male",
    "is_hispanic",
    "race",
    "job",
    "is_living_stable",
    "education",
    "marital",
    "asi_iv_use_history",
    *(f"rbs_{d}_days" for d in RBS_DRUGS),
    "rbs_iv_days",
    "rbs_iv_heroin_days",
    "rbs_iv_shared_needle",
    *(f"tlfb_{g}_days" for g in TLFB_GROUPS.values()),
    *(f"uds_{d}_positive_entry" for d in UDS_DRUGS.values()),
    *(f"uds_{d}_baseline" for d in BASELINE_UDS.values()),
    *PSYCH_FLAGS,
    *(f"asi_{n}" for n in ASI_LITE),
    "is_smoker",
    "ftnd",
    "pain_entry",
    "withdrawal_entry",
)
# Luo et al. 2024's four entry predictors (a subset of ENTRY_FEATURES)
LUO_ENTRY_FEATURES: tuple[str, ...] = (
    "tlfb_heroin_days",
    "uds_opioid_baseline",
    "uds_cocaine_baseline",
    "rbs_iv_heroin_days",
)
WEEK3_FEATURES: tuple[str, ...] = (
    "uds_week1",
    "uds_week2",
    "uds_week3",
    "uds_weeks1_3_not_negative",
)


def _yes_no(series: pd.Series) -> pd.Series:
    return series.map({"Yes": True, "No": False}).astype("boolean")


def entry_features(raw: RawTables, patients: pd.DataFrame) -> pd.DataFrame:
    """One row per patient of ``patients`` (from :func:`.weekly.randomized_patients`)."""
    who = patients["who"]
    rand_day = patients.set_index("who")["rand1_day"]
    out = pd.DataFrame({"who": who})
    out["trial"] = patients["project"].map(TRIALS).to_numpy()
    out["arm"] = patients["treatment"].to_numpy()
    out["site"] = who.map(raw.site_masked.set_index("who")["site_masked"]).astype("string")
    out["days_consent_to_randomization"] = patients["rand1_day"].to_numpy()

    demo = raw.demographics.set_index("who")
    out["age"] = who.map(demo["age"])
    for col in ("is_male", "is_hispanic", "is_living_stable"):
        out[col] = _yes_no(who.map(demo[col]))
    for col in ("race", "job", "education", "marital"):
        out[col] = who.map(demo[col])
    out["race"] = out["race"].replace({"Refused/missing": None})

    out["asi_iv_use_history"] = _yes_no(who.map(raw.asi.set_index("who")["used_iv"]))
    rbs = raw.rbs.pivot_table(index="who", columns="what", values="days", aggfunc="max")
    for drug in RBS_DRUGS:
        out[f"rbs_{drug}_days"] = who.map(rbs[drug]) if drug in rbs else np.nan
    rbs_iv = raw.rbs_iv.set_index("who")
    out["rbs_iv_days"] = who.map(rbs_iv["days"])
    out["rbs_iv_heroin_days"] = who.map(_heroin_injection_days(rbs_iv))
    out["rbs_iv_shared_needle"] = _yes_no(who.map(rbs_iv["shared"]))

    lo, hi = TLFB_WINDOW
    tlfb = raw.tlfb[raw.tlfb["when"].between(lo, hi) & raw.tlfb["what"].isin(TLFB_GROUPS)]
    days = tlfb.drop_duplicates(["who", "what", "when"]).groupby(["who", "what"]).size()
    # no TLFB record up to randomization = no baseline interview: missing, not zero days of use
    pre = raw.tlfb[raw.tlfb["when"] <= raw.tlfb["who"].map(rand_day)]
    interviewed = who.isin(set(pre["who"]))
    for what, name in TLFB_GROUPS.items():
        counts = days[days.index.get_level_values("what") == what].droplevel("what")
        values = who.map(counts).fillna(0).astype("Int64")
        out[f"tlfb_{name}_days"] = values.where(interviewed)  # not interviewed: <NA>

    uds = raw.uds[raw.uds["when"] <= raw.uds["who"].map(rand_day)]
    for what, name in UDS_DRUGS.items():
        positive = set(uds.loc[uds["what"] == what, "who"])
        out[f"uds_{name}_positive_entry"] = who.isin(positive)
    baseline_day, baseline = _baseline_screen(raw, rand_day)
    out["uds_baseline_day"] = who.map(baseline_day).astype("Int64")
    for what, name in BASELINE_UDS.items():
        out[f"uds_{name}_baseline"] = who.map(baseline[what]).astype("boolean")

    psych = raw.psychiatric.set_index("who")
    for col in PSYCH_FLAGS:
        out[col] = _yes_no(who.map(psych[col]))
    for col in ASI_LITE:
        out[f"asi_{col}"] = _yes_no(who.map(psych[col]))

    fag = raw.fagerstrom.drop_duplicates("who").set_index("who")
    out["is_smoker"] = _yes_no(who.map(fag["is_smoker"]))
    out["ftnd"] = pd.to_numeric(who.map(fag["ftnd"]), errors="coerce").astype("Int64")

    pain = raw.pain[raw.pain["when"] <= raw.pain["who"].map(rand_day)]
    pain_map = {
        "No Pain": "none",
        "Very mild to Moderate Pain": "mild_to_moderate",
        "Severe Pain": "severe",
    }
    out["pain_entry"] = who.map(pain.set_index("who")["pain"].map(pain_map))

    wd = raw.withdrawal.dropna(subset=["when"])
    wd = wd[wd["when"] <= wd["who"].map(rand_day)].sort_values(["who", "when"])
    last = wd.groupby("who")["withdrawal"].last()
    out["withdrawal_entry"] = pd.to_numeric(who.map(last), errors="coerce").astype("Int64")
    return out.reset_index(drop=True)


def _heroin_injection_days(rbs_iv: pd.DataFrame) -> pd.Series:
    """RBS-IV days of heroin injection in the past 30 days (``rbs_iv`` indexed by ``who``).

    v1.0.6 stores ``heroin_inject_days`` as days + 1 (1 = injected on no day, 31 = every day):
    ``days`` (the most-injected drug's days) equals the per-drug maximum minus one in 2,988 of the
    3,058 rows that have both, and is never below it. A patient who reports no injection at all
    (``days`` 0) injected heroin on 0 days even where the per-drug item was skipped.
    """
    heroin = rbs_iv["heroin_inject_days"].astype("float64") - 1
    return heroin.where(heroin.notna() | (rbs_iv["days"] != 0), 0.0)


def _baseline_screen(raw: RawTables, rand_day: pd.Series) -> tuple[pd.Series, pd.DataFrame]:
    """Day and result of each patient's baseline urine sample (by ``who``; absent = no sample).

    A sample is a ``uds_temp`` record (every sample, negative or not) or a ``uds`` record (positive
    screens); the baseline one is the first dated from :data:`BASELINE_WINDOW_START` to the
    randomization day, so nothing after randomization can reach it.
    """
    samples = pd.concat(
        [raw.uds_temp[["who", "when"]], raw.uds[["who", "when"]]], ignore_index=True
    ).dropna(subset=["when"])
    limit = samples["who"].map(rand_day)
    samples = samples[samples["when"].between(BASELINE_WINDOW_START, limit)]
    day = samples.groupby("who")["when"].min()
    positive = raw.uds[raw.uds["who"].map(day) == raw.uds["when"]]
    result = pd.DataFrame(
        {
            what: day.index.isin(positive.loc[positive["what"] == what, "who"])
            for what in BASELINE_UDS
        },
        index=day.index,
    )
    return day, result


def week3_features(words: pd.DataFrame) -> pd.DataFrame:
    """Weeks 1-3 of treatment (current word): the early-screen window of Luo et al. 2024."""
    treatment = words["phase_1"] + words["phase_2"]
    out = pd.DataFrame({"who": words["who"]})
    status = {"+": "positive", "-": "negative", "*": "mixed", "o": "missing"}
    for week in (1, 2, 3):
        out[f"uds_week{week}"] = treatment.str[week - 1].map(status)
    out["uds_weeks1_3_not_negative"] = treatment.str[:3].map(lambda w: sum(c != "-" for c in w))
    return out
