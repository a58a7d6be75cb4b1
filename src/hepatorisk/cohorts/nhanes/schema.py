"""Data contracts of the NHANES 2017-2018 cohort tables (ranges from the CDC codebooks)."""

from __future__ import annotations

from hepatorisk.cohorts.nhanes.derive import EDUCATION, RACE
from hepatorisk.contracts import Column, TableSchema

__all__ = ["OUTCOMES", "PARTICIPANTS", "TABLES"]

_SEQN = Column("seqn", "int", "NHANES respondent sequence number (SEQN)", min=93703, max=102956)


def _flag(name: str, description: str) -> Column:
    return Column(name, "bool", description, nullable=True)


def _lab(name: str, description: str, unit: str, hi: float) -> Column:
    return Column(name, "float", description, unit, nullable=True, min=0, max=hi)


PARTICIPANTS = TableSchema(
    name="nhanes_participants",
    key=("seqn",),
    description="NHANES 2017-2018 adults (18+) with ALT measured: features, labs, survey design",
    columns=(
        _SEQN,
        Column("age", "float", "age at screening (RIDAGEYR; 80 = 80+)", "years", min=18, max=80),
        Column("sex", "category", "RIAGENDR", allowed=("male", "female")),
        Column("race_ethnicity", "category", "RIDRETH3", allowed=tuple(RACE.values())),
        Column(
            "education",
            "category",
            "DMDEDUC2 (age 20+)",
            nullable=True,
            allowed=tuple(EDUCATION.values()),
        ),
        Column(
            "income_poverty_ratio", "float", "INDFMPIR (5 = 5 or more)", nullable=True, min=0, max=5
        ),
        Column("bmi", "float", "BMXBMI", "kg/m2", nullable=True, min=10, max=90),
        Column("waist_cm", "float", "BMXWAIST", "cm", nullable=True, min=40, max=200),
        _flag("alcohol_ever", "ALQ111: ever had a drink of any alcohol"),
        Column(
            "alcohol_days_per_year",
            "float",
            "ALQ121 band midpoint (0 if never drank)",
            "days/year",
            nullable=True,
            min=0,
            max=365,
        ),
        Column(
            "alcohol_drinks_per_day",
            "float",
            "ALQ130 on drinking days (15 = 15+)",
            "drinks",
            nullable=True,
            min=0,
            max=15,
        ),
        _flag("alcohol_daily_binge_ever", "ALQ151: ever 4/5+ drinks almost every day"),
        _flag("hepatitis_b_told", "HEQ010: ever told you have hepatitis B"),
        _flag("hepatitis_c_told", "HEQ030: ever told you have hepatitis C"),
        _flag("drug_ever_cocaine_heroin_meth", "DUQ240 (ages 18-69)"),
        _flag("drug_ever_cocaine", "DUQ250"),
        _flag("drug_ever_heroin", "DUQ290"),
        _flag("drug_ever_meth", "DUQ330"),
        _flag("drug_ever_injected", "DUQ370: ever injected a non-prescribed drug"),
        _lab("hba1c_pct", "LBXGH glycohemoglobin", "%", 20),
        _lab("glucose_serum_mg_dl", "LBXSGL serum glucose (biochemistry panel)", "mg/dL", 1000),
        _lab("glucose_fasting_mg_dl", "LBXGLU fasting plasma glucose (subsample)", "mg/dL", 1000),
        _lab("ast_u_l", "LBXSASSI AST", "U/L", 5000),
        _lab("ggt_u_l", "LBXSGTSI GGT", "U/L", 5000),
        _lab("alp_u_l", "LBXSAPSI alkaline phosphatase", "U/L", 5000),
        _lab("bilirubin_mg_dl", "LBXSTB total bilirubin", "mg/dL", 50),
        _lab("albumin_g_dl", "LBXSAL albumin", "g/dL", 10),
        Column("wtmec2yr", "float", "MEC examination weight (2-year)", min=0),
        Column("sdmvpsu", "int", "masked variance pseudo-PSU", min=1, max=3),
        Column("sdmvstra", "int", "masked variance pseudo-stratum", min=100, max=200),
    ),
)

OUTCOMES = TableSchema(
    name="nhanes_outcomes",
    key=("seqn",),
    description="ALT and its elevation labels",
    columns=(
        _SEQN,
        Column("alt_u_l", "float", "LBXSATSI alanine aminotransferase", "U/L", min=0, max=5000),
        Column(
            "alt_uln_u_l",
            "float",
            "sex-specific ACG 2017 ULN (33 men, 25 women)",
            "U/L",
            min=25,
            max=33,
        ),
        Column("alt_elevated", "bool", "ALT above the sex-specific ACG 2017 ULN"),
        Column("alt_gt40", "bool", "ALT > 40 U/L"),
    ),
)

TABLES = {"participants": PARTICIPANTS, "outcomes": OUTCOMES}
