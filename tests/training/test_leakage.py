"""Leakage: post-outcome information is refused, and a leak would be visible against the oracle."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from training_support import FAST, PIPELINES

from hepatorisk.exceptions import ConfigError
from hepatorisk.training.runner import run_pipeline


def test_features_reading_the_outcomes_table_are_refused(project: Path) -> None:
    with pytest.raises(ConfigError, match=r"post-outcome columns.*leak \(reads alt_peak_xuln\)"):
        run_pipeline(
            PIPELINES / "liver_synthetic.yaml",
            [*FAST, "features.derived.leak=alt_peak_xuln * 1"],
            root=project,
        )


def test_honest_model_stays_below_the_oracle_and_a_smuggled_leak_does_not(project: Path) -> None:
    """The oracle is the best any baseline-record model can do, so a model that beats it clearly
    must be reading the future. Smuggle the week-12 outcome into the patients table (past the
    outcomes-table guard) and the check catches it."""
    honest = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=project)
    assert honest.metrics["auroc_vs_oracle_w0"] <= 1.02

    cohort = project / "work" / "cohort"
    patients = pd.read_parquet(cohort / "patients.parquet")
    outcomes = pd.read_parquet(cohort / "outcomes.parquet")
    # the highest ALT drawn in weeks 1-12, disguised as a baseline lab: information from
    # after entry that defines the outcome itself
    visits = pd.read_parquet(cohort / "visits.parquet")
    early = visits[(visits["week"] >= 1) & (visits["week"] <= 12)]
    peak = early.groupby("patient_id")["alt_u_l"].max()
    # patients who left before the first draw keep their entry value
    leaked = patients["patient_id"].map(peak).fillna(patients["alt_u_l"])
    patients["alt_u_l"] = leaked.clip(upper=10000).to_numpy()
    patients.to_parquet(cohort / "patients.parquet", index=False)
    assert len(outcomes) == len(patients)
    leaky = run_pipeline(PIPELINES / "liver_synthetic.yaml", FAST, root=project)
    # the leaked baseline moves entry-time exclusions (no week-0 events are left, so the leaky
    # run logs no oracle ratio): judge its pooled AUROC against the honest run's oracle
    ratio = leaky.metrics["test_auroc"] / honest.metrics["oracle_auroc"]
    assert ratio > 1.02, ratio
