"""Table 1 of the NHANES cohort, unweighted and survey-weighted, with ALT elevation prevalence."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hepatorisk.cohorts.describe import Description, Section, Target
from hepatorisk.cohorts.nhanes.derive import weighted_share
from hepatorisk.cohorts.nhanes.schema import OUTCOMES, PARTICIPANTS
from hepatorisk.cohorts.table_one import Variable, table_one
from hepatorisk.contracts import read_table

__all__ = ["describe"]

VARIABLES = (
    Variable("Age", "age", "continuous", "years"),
    Variable("Sex", "sex", "categorical"),
    Variable("Race/ethnicity", "race_ethnicity", "categorical"),
    Variable("BMI", "bmi", "continuous", "kg/m2"),
    Variable("Waist", "waist_cm", "continuous", "cm"),
    Variable("Alcohol, days per year", "alcohol_days_per_year", "continuous", "days"),
    Variable("Ever told hepatitis B", "hepatitis_b_told", "binary"),
    Variable("Ever told hepatitis C", "hepatitis_c_told", "binary"),
    Variable("Ever used heroin", "drug_ever_heroin", "binary"),
    Variable("Ever used cocaine", "drug_ever_cocaine", "binary"),
    Variable("Ever injected drugs", "drug_ever_injected", "binary"),
    Variable("HbA1c", "hba1c_pct", "continuous", "%"),
    Variable("ALT", "alt_u_l", "continuous", "U/L"),
    Variable("AST", "ast_u_l", "continuous", "U/L"),
    Variable("GGT", "ggt_u_l", "continuous", "U/L"),
)
_WEIGHT = "wtmec2yr"
_PROVENANCE = "data/public/nhanes_2017_2018/PROVENANCE.md (verified counts)"


def describe(directory: Path) -> Description:
    """Read the built tables of ``directory`` (contracts enforced) and describe them."""
    participants = read_table(directory / "participants.parquet", PARTICIPANTS)
    outcomes = read_table(directory / "outcomes.parquet", OUTCOMES)
    frame = participants.merge(outcomes, on="seqn", validate="one_to_one")
    frame["ALT above ACG ULN"] = frame["alt_elevated"].map({True: "elevated", False: "normal"})
    by = "ALT above ACG ULN"
    weighted_note = (
        "Percentages and medians weighted with WTMEC2YR (n stays unweighted); point estimates "
        "only: standard errors need the SDMVPSU/SDMVSTRA design."
    )
    return Description(
        title=f"NHANES 2017-2018: {len(frame):,} adults (18+) with ALT measured",
        sections=[
            Section("ALT elevation prevalence", _prevalence(frame), weighted_note),
            Section("Table 1, unweighted", table_one(frame, VARIABLES, by=by)),
            Section(
                "Table 1, survey-weighted",
                table_one(frame, VARIABLES, by=by, weights=_WEIGHT),
                weighted_note,
            ),
        ],
        targets=[
            Target("adults with ALT", "5,153", _PROVENANCE, float(len(frame)), 5153, 5153),
            Target(
                "ALT above ACG ULN",
                "893",
                _PROVENANCE,
                float(frame["alt_elevated"].sum()),
                893,
                893,
            ),
            Target("ALT > 40 U/L", "452", _PROVENANCE, float(frame["alt_gt40"].sum()), 452, 452),
        ],
    )


def _prevalence(frame: pd.DataFrame) -> pd.DataFrame:
    rows = {}
    labels = {
        "alt_elevated": "ALT > 33 U/L (men) / > 25 U/L (women), ACG 2017",
        "alt_gt40": "ALT > 40 U/L",
    }
    for column, label in labels.items():
        flag = frame[column]
        rows[label] = {
            "n": int(flag.sum()),
            "unweighted %": f"{100 * flag.mean():.1f}",
            "weighted %": f"{100 * weighted_share(flag, frame[_WEIGHT]):.1f}",
        }
    return pd.DataFrame.from_dict(rows, orient="index")
