"""The NHANES 2017-2018 cohort: adults with a measured ALT, for liver-enzyme elevation."""

from hepatorisk.cohorts.nhanes.build import (
    FEATURE_SETS,
    OUTCOME_COLUMNS,
    SURVEY_DESIGN,
    NhanesCohort,
    build_nhanes,
    derive_cohort,
)
from hepatorisk.cohorts.nhanes.raw import load_raw

__all__ = [
    "FEATURE_SETS",
    "OUTCOME_COLUMNS",
    "SURVEY_DESIGN",
    "NhanesCohort",
    "build_nhanes",
    "derive_cohort",
    "load_raw",
]
