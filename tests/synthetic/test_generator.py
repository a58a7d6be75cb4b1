"""The generator: deterministic, internally consistent, and its oracle is the truth it claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.synthetic import (
    GeneratorConfig,
    SyntheticCohort,
    generate_cohort,
    true_risks,
)
from hepatorisk.cohorts.synthetic.relapse import first_run_end


def test_same_seed_same_cohort_other_seed_other_cohort(config: GeneratorConfig) -> None:
    a = generate_cohort(800, seed=3, config=config)
    b = generate_cohort(800, seed=3, config=config)
    c = generate_cohort(800, seed=4, config=config)
    for name in ("patients", "visits", "outcomes", "latent"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))
    assert not a.patients["age"].equals(c.patients["age"])


def test_chunked_generation_has_unique_ids_and_full_weeks(config: GeneratorConfig) -> None:
    cohort = generate_cohort(45_001, seed=1, config=config)  # three chunks, the last of one patient
    assert cohort.patients["patient_id"].is_unique
    assert len(cohort.patients) == 45_001
    assert len(cohort.visits) == 45_001 * (config.follow_up.weeks + 1)


def test_liver_event_follows_from_the_recorded_labs(cohort: SyntheticCohort) -> None:
    v, o = cohort.visits, cohort.outcomes
    uln = cohort.patients.set_index("patient_id")["alt_uln_u_l"]
    in_window = v[(v["week"] >= 1) & (v["week"] <= 12) & v["alt_u_l"].notna()]
    ratio = in_window["alt_u_l"] / in_window["patient_id"].map(uln)
    # values are rounded to 0.1 U/L when written; allow for that at the threshold
    recomputed = (ratio > 3.0).groupby(in_window["patient_id"]).any()
    observed = o.set_index("patient_id")["liver_event_12w"]
    disagree = recomputed != observed.loc[recomputed.index]
    near = (ratio - 3.0).abs().groupby(in_window["patient_id"]).min() < 0.01
    assert not (disagree & ~near).any()
    assert disagree.sum() <= 3


def test_relapse_follows_from_the_recorded_screens(cohort: SyntheticCohort) -> None:
    v = cohort.visits[cohort.visits["week"] >= 1]
    flags = (v["uds_opioid"] != "negative").to_numpy().reshape(len(cohort.patients), -1)
    end = first_run_end(flags, cohort.config.follow_up.relapse_run_weeks)
    np.testing.assert_array_equal(end <= 12, cohort.outcomes["relapse_12w"].to_numpy(dtype=bool))
    np.testing.assert_array_equal(end <= 24, cohort.outcomes["relapse_24w"].to_numpy(dtype=bool))


def test_first_run_end_matches_a_direct_scan() -> None:
    rng = np.random.default_rng(0)
    flags = rng.random((500, 24)) < 0.5
    got = first_run_end(flags, 4)
    for row, value in zip(flags, got, strict=True):
        text = "".join("1" if f else "0" for f in row)
        pos = text.find("1111")
        assert value == (pos + 4 if pos >= 0 else np.inf)


@pytest.mark.parametrize(
    ("outcome", "risk"), [("liver_event_12w", "p_liver_true"), ("relapse_12w", "p_relapse_true")]
)
def test_oracle_is_calibrated_against_the_simulation(
    cohort: SyntheticCohort, outcome: str, risk: str
) -> None:
    """The true probability must agree with what the simulation produced, overall and by decile
    (within 4 binomial standard errors: a wrong mechanism in either misses by far more)."""
    y = cohort.outcomes[outcome].to_numpy(dtype=float)
    p = cohort.outcomes[risk].to_numpy(dtype=float)
    se = np.sqrt(np.sum(p * (1 - p))) / len(p)
    assert abs(y.mean() - p.mean()) < 4 * se
    deciles = pd.qcut(p, 10, labels=False, duplicates="drop")
    for d in np.unique(deciles):
        m = deciles == d
        se_d = np.sqrt(np.sum(p[m] * (1 - p[m]))) / m.sum()
        assert abs(y[m].mean() - p[m].mean()) < 4 * se_d + 1e-3, f"decile {d}"


def test_oracle_numerical_error_is_negligible(
    cohort: SyntheticCohort, config: GeneratorConfig
) -> None:
    patients = cohort.patients.head(3000)
    fine = config.model_copy(
        update={
            "oracle": config.oracle.model_copy(update={"quadrature_nodes": 96, "injury_grid": 200})
        }
    )
    coarse_risks = true_risks(patients, config)
    fine_risks = true_risks(patients, fine)
    assert np.abs(coarse_risks.to_numpy() - fine_risks.to_numpy()).max() < 1e-4


def test_stored_true_risks_are_reproducible_from_the_patients_table(
    cohort: SyntheticCohort, config: GeneratorConfig
) -> None:
    again = true_risks(cohort.patients.head(2000), config)
    stored = cohort.outcomes.head(2000)
    np.testing.assert_allclose(again["p_liver_true"], stored["p_liver_true"], atol=1e-9)
    np.testing.assert_allclose(again["p_relapse_true"], stored["p_relapse_true"], atol=1e-9)


def _as_users(patients: pd.DataFrame, dose_g: float) -> pd.DataFrame:
    users = patients.copy()
    users["kratom_product"] = pd.Categorical(
        ["leaf_powder"] * len(users), categories=patients["kratom_product"].cat.categories
    )
    users["mitragynine_mg_per_g"] = 1.4
    users["kratom_dose_g_day"] = dose_g
    return users


def test_higher_dose_raises_liver_risk_and_lowers_craving_and_relapse(
    cohort: SyntheticCohort, config: GeneratorConfig
) -> None:
    from hepatorisk.cohorts.synthetic.population import Baseline
    from hepatorisk.cohorts.synthetic.relapse import expected_scores

    patients = cohort.patients.head(2000)
    low, high = _as_users(patients, 2.0), _as_users(patients, 12.0)
    risk_low, risk_high = true_risks(low, config), true_risks(high, config)
    assert (risk_high["p_liver_true"] > risk_low["p_liver_true"]).all()
    craving_low, cows_low = expected_scores(Baseline(low, config), 4, True, config)
    craving_high, cows_high = expected_scores(Baseline(high, config), 4, True, config)
    positive = patients["craving_entry"].to_numpy() > 0
    assert (craving_high[positive] < craving_low[positive]).all()
    assert (cows_high <= cows_low).all()
    assert risk_high["p_relapse_true"].mean() < risk_low["p_relapse_true"].mean()


def test_non_users_carry_no_kratom_injury(cohort: SyntheticCohort) -> None:
    non_users = (cohort.patients["kratom_product"] == "none").to_numpy()
    assert not cohort.latent["kratom_reaction"].to_numpy(dtype=bool)[non_users].any()
    weekly = cohort.visits["kratom_dose_g"].to_numpy().reshape(len(non_users), -1)
    assert np.nansum(weekly[non_users]) == 0


def test_enzymes_fall_after_kratom_is_stopped(cohort: SyntheticCohort) -> None:
    latent = cohort.latent
    stopped = (latent["liver_event_cause"] == "kratom") & (latent["kratom_stop_week"] <= 8)
    ids = latent.loc[stopped.fillna(False), ["patient_id", "kratom_stop_week"]]
    assert len(ids) > 30
    labs = cohort.visits.set_index(["patient_id", "week"])["alt_u_l"]
    at_stop = labs.loc[list(zip(ids["patient_id"], ids["kratom_stop_week"], strict=True))]
    at_24 = labs.loc[list(zip(ids["patient_id"], [24] * len(ids), strict=True))]
    assert np.median(at_24.to_numpy() / at_stop.to_numpy()) < 0.5
