"""The patient table: what was known about each randomized patient at treatment entry.

Entry means *on or before the day of randomization* (the randomization day closes study week 0 in
the CTN-0094 convention, see :mod:`.weekly`). Dated records (``tlfb``, ``uds``, ``pain``,
``withdrawal``) are filtered to that window here and nowhere else; undated tables (demographics,
ASI, RBS, RBS-IV, psychiatric history, Fagerstrom) are baseline assessments in the harmonized
data (Balise et al., PLOS One 2024). ``test_ctn0094_leakage`` proves that no record dated after
randomization reaches an entry feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepatorisk.cohorts.ctn0094.raw import RawTables

__all__ = ["ENTRY_FEATURES", "WEEK3_FEATURES", "entry_features", "week3_features"]

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
    "rbs_iv_shared_needle",
    *(f"tlfb_{g}_days" for g in TLFB_GROUPS.values()),
    *(f"uds_{d}_positive_entry" for d in UDS_DRUGS.values()),
    *PSYCH_FLAGS,
    *(f"asi_{n}" for n in ASI_LITE),
    "is_smoker",
    "ftnd",
    "pain_entry",
    "withdrawal_entry",
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
        out[f"tlfb_{name}_days"] = values.where(interviewed, pd.NA)

    uds = raw.uds[raw.uds["when"] <= raw.uds["who"].map(rand_day)]
    for what, name in UDS_DRUGS.items():
        positive = set(uds.loc[uds["what"] == what, "who"])
        out[f"uds_{name}_positive_entry"] = who.isin(positive)

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


def week3_features(words: pd.DataFrame) -> pd.DataFrame:
    """Weeks 1-3 of treatment (current word): the early-screen window of Luo et al. 2024."""
    treatment = words["phase_1"] + words["phase_2"]
    out = pd.DataFrame({"who": words["who"]})
    status = {"+": "positive", "-": "negative", "*": "mixed", "o": "missing"}
    for week in (1, 2, 3):
        out[f"uds_week{week}"] = treatment.str[week - 1].map(status)
    out["uds_weeks1_3_not_negative"] = treatment.str[:3].map(lambda w: sum(c != "-" for c in w))
    return out
