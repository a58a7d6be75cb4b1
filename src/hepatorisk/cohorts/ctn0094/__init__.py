"""The CTN-0094 cohort: 2,492 randomized patients of CTN-0027, CTN-0030 and CTN-0051."""

from hepatorisk.cohorts.ctn0094.build import (
    FEATURE_SETS,
    OUTCOME_COLUMNS,
    Ctn0094Cohort,
    build_ctn0094,
    derive_cohort,
)
from hepatorisk.cohorts.ctn0094.raw import RawTables, load_raw

__all__ = [
    "FEATURE_SETS",
    "OUTCOME_COLUMNS",
    "Ctn0094Cohort",
    "RawTables",
    "build_ctn0094",
    "derive_cohort",
    "load_raw",
]
