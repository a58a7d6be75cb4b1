"""``cohort build nhanes``: verified ``.XPT`` files -> checked Parquet tables + manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hepatorisk.cohorts.manifest import CohortManifest, write_manifest
from hepatorisk.cohorts.nhanes.derive import derive_participants, weighted_share
from hepatorisk.cohorts.nhanes.raw import load_raw
from hepatorisk.cohorts.nhanes.schema import OUTCOMES, PARTICIPANTS, TABLES
from hepatorisk.contracts import write_table

__all__ = ["FEATURE_SETS", "OUTCOME_COLUMNS", "SURVEY_DESIGN", "NhanesCohort", "build_nhanes"]

log = logging.getLogger(__name__)

RISK_FACTORS = [
    "age",
    "sex",
    "race_ethnicity",
    "education",
    "income_poverty_ratio",
    "bmi",
    "waist_cm",
    "alcohol_ever",
    "alcohol_days_per_year",
    "alcohol_drinks_per_day",
    "alcohol_daily_binge_ever",
    "hepatitis_b_told",
    "hepatitis_c_told",
    "drug_ever_cocaine_heroin_meth",
    "drug_ever_cocaine",
    "drug_ever_heroin",
    "drug_ever_meth",
    "drug_ever_injected",
    "hba1c_pct",
    "glucose_serum_mg_dl",
    "glucose_fasting_mg_dl",
]
# Same blood draw as ALT: useful, but a model using them is partly reading the outcome's panel.
LIVER_PANEL = ["ast_u_l", "ggt_u_l", "alp_u_l", "bilirubin_mg_dl", "albumin_g_dl"]
FEATURE_SETS = {
    "risk_factors": RISK_FACTORS,
    "risk_factors_plus_liver_panel": [*RISK_FACTORS, *LIVER_PANEL],
}
OUTCOME_COLUMNS = ["alt_elevated", "alt_gt40"]
SURVEY_DESIGN = {"weight": "wtmec2yr", "psu": "sdmvpsu", "strata": "sdmvstra"}


@dataclass(frozen=True)
class NhanesCohort:
    participants: pd.DataFrame
    outcomes: pd.DataFrame


def derive_cohort(raw: pd.DataFrame) -> NhanesCohort:
    frame = derive_participants(raw)
    return NhanesCohort(
        participants=PARTICIPANTS.validate(frame[PARTICIPANTS.column_names]),
        outcomes=OUTCOMES.validate(frame[OUTCOMES.column_names]),
    )


def build_nhanes(source: Path, out: Path) -> NhanesCohort:
    """Read the verified files in ``source`` and write the cohort folder ``out``."""
    cohort = derive_cohort(load_raw(source))
    out.mkdir(parents=True, exist_ok=True)
    write_table(cohort.participants, TABLES["participants"], out / "participants.parquet")
    write_table(cohort.outcomes, TABLES["outcomes"], out / "outcomes.parquet")
    write_manifest(
        CohortManifest(
            kind="nhanes",
            tables=list(TABLES),
            feature_sets=FEATURE_SETS,
            outcomes=OUTCOME_COLUMNS,
            extra={
                "id_column": "seqn",
                "survey_design": SURVEY_DESIGN,
                "source": "NHANES 2017-2018 (CDC/NCHS), data/public/nhanes_2017_2018",
            },
        ),
        out,
    )
    weight = cohort.participants["wtmec2yr"]
    log.info(
        "nhanes: %d adults with ALT; ALT above ACG ULN %.1f%% unweighted, %.1f%% weighted -> %s",
        len(cohort.outcomes),
        100 * cohort.outcomes["alt_elevated"].mean(),
        100 * weighted_share(cohort.outcomes["alt_elevated"], weight),
        out,
    )
    return cohort
