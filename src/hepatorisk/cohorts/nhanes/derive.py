"""NHANES 2017-2018 codes -> analysis variables, and the ALT outcomes.

Codes follow the CDC/NCHS codebooks of each 2017-2018 file (https://wwwn.cdc.gov/nchs/nhanes/
search/datapage.aspx?Component=...&CycleBeginYear=2017): 7 / 77 / 777 = refused and
9 / 99 / 999 = don't know become missing; a question skipped by design is filled from its gate
question where the codebook's skip pattern makes the answer certain (never drank -> 0 drinking
days; never used cocaine, heroin or methamphetamine -> no to each).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["ALT_ULN_U_L", "derive_participants", "weighted_share"]

# ACG clinical guideline 2017 (Kwo PY, Cohen SM, Lim JK. Am J Gastroenterol 2017;112:18-35):
# true healthy upper limit of normal ALT 29-33 IU/L in men, 19-25 IU/L in women; the elevation
# label uses the top of each range (clinical-facts.md, section 2, "ULNs").
ALT_ULN_U_L = {"male": 33.0, "female": 25.0}
ALT_GT40_U_L = 40.0  # the conventional laboratory ULN (LiverTox DILIN cases use ALT ULN 40)
ADULT_AGE = 18

# RIDRETH3 (DEMO_J): 1 Mexican American, 2 Other Hispanic, 3 NH White, 4 NH Black,
# 6 NH Asian, 7 Other race including multi-racial (no code 5 in this cycle).
RACE = {
    1: "mexican_american",
    2: "other_hispanic",
    3: "nh_white",
    4: "nh_black",
    6: "nh_asian",
    7: "other_multiracial",
}
# DMDEDUC2 (DEMO_J, age 20+): 1 < 9th grade, 2 9-11th grade, 3 high school/GED, 4 some college
# or AA degree, 5 college graduate or above; 7 refused, 9 don't know. Ages 18-19 are not asked.
EDUCATION = {
    1: "less_than_9th",
    2: "9th_to_11th",
    3: "high_school",
    4: "some_college",
    5: "college_graduate",
}
# ALQ121 (ALQ_J), "past 12 months how often drink": 0 never in the last year, 1 every day,
# 2 nearly every day, 3 3-4 times a week, 4 2 times a week, 5 once a week, 6 2-3 times a month,
# 7 once a month, 8 7-11 times a year, 9 3-6 times a year, 10 1-2 times a year; 77/99 missing.
# Drinking days per year at the middle of each band (an assumption for a numeric feature).
ALQ121_DAYS_PER_YEAR = {
    0: 0.0,
    1: 365.0,
    2: 286.0,
    3: 182.0,
    4: 104.0,
    5: 52.0,
    6: 30.0,
    7: 12.0,
    8: 9.0,
    9: 4.5,
    10: 1.5,
}


def _yes_no(code: pd.Series) -> pd.Series:
    """1 yes, 2 no; 7 refused, 9 don't know and skips -> missing (all yes/no items used)."""
    return code.map({1.0: True, 2.0: False}).astype("boolean")


def derive_participants(raw: pd.DataFrame) -> pd.DataFrame:
    """Adults (18+) with a measured ALT: features, labs, survey design and outcomes."""
    adults = raw[(raw["RIDAGEYR"] >= ADULT_AGE) & raw["LBXSATSI"].notna()].copy()
    out = pd.DataFrame({"seqn": adults["SEQN"].to_numpy()})
    a = adults.reset_index(drop=True)
    out["age"] = a["RIDAGEYR"]  # top-coded at 80 (80 = 80 years and over)
    out["sex"] = a["RIAGENDR"].map({1.0: "male", 2.0: "female"})
    out["race_ethnicity"] = a["RIDRETH3"].map(RACE)
    out["education"] = a["DMDEDUC2"].map(EDUCATION)
    out["income_poverty_ratio"] = a["INDFMPIR"]  # 0-5, top-coded at 5
    out["bmi"] = a["BMXBMI"]
    out["waist_cm"] = a["BMXWAIST"]

    ever_drank = _yes_no(a["ALQ111"])
    days = a["ALQ121"].map(ALQ121_DAYS_PER_YEAR)
    out["alcohol_ever"] = ever_drank
    out["alcohol_days_per_year"] = days.where(ever_drank.ne(False).fillna(True), 0.0)
    # ALQ130: average drinks on drinking days (1-14, 15 = 15 or more; 777/999 missing); skipped
    # when the person drank on no day in the past year.
    drinks = a["ALQ130"].where(a["ALQ130"] <= 15)
    out["alcohol_drinks_per_day"] = drinks.where(out["alcohol_days_per_year"] != 0, 0.0)
    # ALQ151: ever 4/5+ drinks almost every day; asked only of people who ever drank
    binge = _yes_no(a["ALQ151"])
    out["alcohol_daily_binge_ever"] = binge.mask(ever_drank.eq(False).fillna(False), False)

    out["hepatitis_b_told"] = _yes_no(a["HEQ010"])
    out["hepatitis_c_told"] = _yes_no(a["HEQ030"])

    # DUQ_J is asked at ages 18-69 in the MEC; DUQ250/290/330 only if DUQ240 (ever cocaine,
    # heroin or methamphetamine) = 1, so DUQ240 = 2 means "no" to each of them.
    any_hard = _yes_no(a["DUQ240"])
    out["drug_ever_cocaine_heroin_meth"] = any_hard
    for column, code in (("cocaine", "DUQ250"), ("heroin", "DUQ290"), ("meth", "DUQ330")):
        answer = _yes_no(a[code])
        out[f"drug_ever_{column}"] = answer.mask(any_hard.eq(False).fillna(False), False)
    out["drug_ever_injected"] = _yes_no(a["DUQ370"])

    out["hba1c_pct"] = a["LBXGH"]
    out["glucose_serum_mg_dl"] = a["LBXSGL"]
    out["glucose_fasting_mg_dl"] = a["LBXGLU"]  # fasting subsample only
    out["ast_u_l"] = a["LBXSASSI"]
    out["ggt_u_l"] = a["LBXSGTSI"]
    out["alp_u_l"] = a["LBXSAPSI"]
    out["bilirubin_mg_dl"] = a["LBXSTB"]
    out["albumin_g_dl"] = a["LBXSAL"]

    out["wtmec2yr"] = a["WTMEC2YR"]
    out["sdmvpsu"] = a["SDMVPSU"].astype("int64")
    out["sdmvstra"] = a["SDMVSTRA"].astype("int64")

    out["alt_u_l"] = a["LBXSATSI"]
    out["alt_uln_u_l"] = out["sex"].map(ALT_ULN_U_L)
    out["alt_elevated"] = out["alt_u_l"] > out["alt_uln_u_l"]
    out["alt_gt40"] = out["alt_u_l"] > ALT_GT40_U_L
    return out.sort_values("seqn").reset_index(drop=True)


def weighted_share(flag: pd.Series, weight: pd.Series) -> float:
    """Survey-weighted proportion (point estimate with the MEC examination weight)."""
    w = weight.to_numpy(dtype="float64")
    return float(np.sum(w * flag.to_numpy(dtype="float64")) / np.sum(w))
