"""``cohort build ctn0094``: raw published tables -> contract-checked Parquet tables + manifest."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hepatorisk.cohorts.ctn0094.features import (
    ENTRY_FEATURES,
    LUO_ENTRY_FEATURES,
    WEEK3_FEATURES,
    entry_features,
    week3_features,
)
from hepatorisk.cohorts.ctn0094.outcomes import relapse_outcomes
from hepatorisk.cohorts.ctn0094.raw import RawTables, load_raw
from hepatorisk.cohorts.ctn0094.schema import TABLES
from hepatorisk.cohorts.ctn0094.weekly import randomized_patients, uds_words
from hepatorisk.cohorts.manifest import CohortManifest, write_manifest
from hepatorisk.contracts import write_table

__all__ = ["FEATURE_SETS", "OUTCOME_COLUMNS", "Ctn0094Cohort", "build_ctn0094", "derive_cohort"]

log = logging.getLogger(__name__)

FEATURE_SETS = {
    "entry": list(ENTRY_FEATURES),
    "entry_plus_week3": [*ENTRY_FEATURES, *WEEK3_FEATURES],
    # Luo et al. 2024's four entry predictors, with the trial and the randomized arm: the set the
    # CTN-0094 pipelines use (chosen by cross-validated AUROC on the training rows, see README)
    "luo4_trial_arm": ["trial", "arm", *LUO_ENTRY_FEATURES],
    "luo4_trial_arm_plus_week3": ["trial", "arm", *LUO_ENTRY_FEATURES, *WEEK3_FEATURES],
}
OUTCOME_COLUMNS = ["relapse_ctn0094", "relapse_12w"]


@dataclass(frozen=True)
class Ctn0094Cohort:
    """The derived tables, validated against their contracts."""

    patients: pd.DataFrame
    outcomes: pd.DataFrame
    uds_words: pd.DataFrame
    weekly_uds: pd.DataFrame

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}


def derive_cohort(raw: RawTables) -> Ctn0094Cohort:
    """Pure derivation from in-memory raw tables (tests perturb ``raw`` to probe leakage)."""
    patients = randomized_patients(raw)
    words = uds_words(raw)
    features = entry_features(raw, patients).merge(week3_features(words.words), on="who")
    tables = {
        "patients": features,
        "outcomes": relapse_outcomes(words.words),
        "uds_words": words.words,
        "weekly_uds": words.weekly,
    }
    checked = {name: TABLES[name].validate(frame) for name, frame in tables.items()}
    return Ctn0094Cohort(**checked)


def build_ctn0094(source: Path, out: Path) -> Ctn0094Cohort:
    """Read the verified ``.rda`` files in ``source`` and write the cohort folder ``out``."""
    cohort = derive_cohort(load_raw(source))
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in cohort.tables().items():
        write_table(frame, TABLES[name], out / f"{name}.parquet")
    write_manifest(
        CohortManifest(
            kind="ctn0094",
            tables=list(TABLES),
            feature_sets=FEATURE_SETS,
            outcomes=OUTCOME_COLUMNS,
            extra={
                "id_column": "who",
                "source": "public.ctn0094data v1.0.6 (MIT), data/public/ctn0094",
            },
        ),
        out,
    )
    log.info(
        "ctn0094: %d randomized patients, relapse_ctn0094 %.1f%%, relapse_12w %.1f%% -> %s",
        len(cohort.patients),
        100 * cohort.outcomes["relapse_ctn0094"].mean(),
        100 * cohort.outcomes["relapse_12w"].mean(),
        out,
    )
    return cohort
