"""The generator: deterministic, internally consistent, and its oracle is the truth it claims."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepatorisk.clinical.liver_events import new_onset_elevation
from hepatorisk.cohorts.synthetic import (
    GeneratorConfig,
    SyntheticCohort,
    generate_cohort,
    true_risks,
)
from hepatorisk.cohorts.synthetic.generate import Intervention
from hepatorisk.cohorts.synthetic.relapse import first_run_end

_LABS = {"alt": "alt_u_l", "ast": "ast_u_l", "alp": "alp_u_l"}
_ULNS = {"alt": "alt_uln_u_l", "ast": "ast_uln_u_l", "alp": "alp_uln_u_l"}


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
    """Recomputing the new-onset definition from the written visits gives the outcome column
    (values are rounded to 0.1 U/L when written: a value at the threshold may flip)."""
    v, p, o = cohort.visits, cohort.patients.set_index("patient_id"), cohort.outcomes
    post = v[(v["week"] >= 1) & (v["week"] <= 12)]
    ids = post["patient_id"]
    values = {t: post[c].to_numpy(dtype=float) for t, c in _LABS.items()}
    baseline = {t: ids.map(p[c]).to_numpy(dtype=float) for t, c in _LABS.items()}
    ulns = {t: ids.map(p[c]).to_numpy(dtype=float) for t, c in _ULNS.items()}
    recomputed = (
        pd.Series(new_onset_elevation(values, baseline, ulns)).groupby(ids.to_numpy()).any()
    )
    observed = o.set_index("patient_id")["liver_event_12w"]
    at_risk = observed.notna()
    disagree = recomputed[at_risk.index[at_risk]] != observed[at_risk].astype(bool)
    assert disagree.sum() <= 3
    prevalent = o.set_index("patient_id")["prevalent_liver_abnormality"]
    assert observed.isna().equals(prevalent)


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


def test_labs_and_answers_exist_only_at_attended_visits(cohort: SyntheticCohort) -> None:
    v = cohort.visits
    missed = ~v["attended"].to_numpy(dtype=bool)
    assert missed.any() and (v.loc[missed, "uds_opioid"] == "missing").all()
    recorded = [c for c in v.columns if c not in ("patient_id", "week", "attended", "uds_opioid")]
    assert v.loc[missed, recorded].isna().all().all(), "a value was recorded at a missed visit"
    left = cohort.latent.set_index("patient_id")["dropout_week"].dropna()
    after = v[v["patient_id"].isin(left.index)]
    gone = after["week"].to_numpy() >= after["patient_id"].map(left).to_numpy()
    assert not after["attended"].to_numpy(dtype=bool)[gone].any()


def _observed(outcomes: pd.DataFrame, column: str) -> np.ndarray:
    values: np.ndarray = outcomes[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    return values


@pytest.mark.parametrize(
    ("outcome", "risk"),
    [
        ("liver_event_12w", "p_liver_true"),
        ("liver_event_24w", "p_liver_24w_true"),
        ("relapse_12w", "p_relapse_true"),
        ("relapse_24w", "p_relapse_24w_true"),
    ],
)
def test_oracle_is_calibrated_against_the_simulation(
    cohort: SyntheticCohort, outcome: str, risk: str
) -> None:
    """The true probability must agree with what the simulation produced, overall and by decile
    (within 4 binomial standard errors: a wrong mechanism in either misses by far more)."""
    frame = cohort.outcomes.merge(cohort.latent[["patient_id", "p_relapse_24w_true"]])
    y, p = _observed(frame, outcome), frame[risk].to_numpy(dtype=float)
    known = ~np.isnan(y)
    y, p = y[known], p[known]
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
    oracle = config.oracle.model_copy(
        update={"quadrature_nodes": 96, "injury_grid": 200, "r_grid": 40, "frailty_step_sd": 0.2}
    )
    fine = config.model_copy(update={"oracle": oracle})
    coarse_risks = true_risks(patients, config).to_numpy()
    fine_risks = true_risks(patients, fine).to_numpy()
    assert np.nanmax(np.abs(coarse_risks - fine_risks)) < 1e-4


def test_stored_true_risks_are_reproducible_from_the_patients_table(
    cohort: SyntheticCohort, config: GeneratorConfig
) -> None:
    again = true_risks(cohort.patients.head(2000), config)
    stored = cohort.outcomes.head(2000)
    for column in ("p_liver_true", "p_liver_24w_true", "p_relapse_true"):
        np.testing.assert_allclose(again[column], stored[column].astype(float), atol=1e-9)


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.5])
def test_true_dose_effect_agrees_with_a_brute_force_resimulation(
    config: GeneratorConfig, factor: float
) -> None:
    """Living the same patients (same seed) through the set dose gives, on average, the risk the
    true-effect function computes without simulating (within 4 standard errors)."""
    intervention = Intervention(factor)
    lived = generate_cohort(20_000, seed=11, config=config, intervention=intervention)
    users = (lived.patients["kratom_product"] != "none").to_numpy()
    risks = true_risks(lived.patients[users], config, intervention)
    for outcome, risk in (
        ("liver_event_24w", "p_liver_24w_true"),
        ("relapse_24w", "p_relapse_24w_true"),
    ):
        y = _observed(lived.outcomes, outcome)[users]
        p = risks[risk].to_numpy(dtype=float)
        known = ~np.isnan(y)
        se = np.sqrt(np.sum(p[known] * (1 - p[known]))) / known.sum()
        assert abs(y[known].mean() - p[known].mean()) < 4 * se, outcome


def test_confounding_separates_association_from_effect(cohort: SyntheticCohort) -> None:
    """Use and dose follow withdrawal, craving and pain, so the naive contrasts are not the
    effect: users are sicker (higher untreated craving) and record lower entry scores."""
    from hepatorisk.cohorts.synthetic.effect import dose_effects

    users = (cohort.patients["kratom_product"] != "none").to_numpy()
    need = cohort.latent["craving_need"].to_numpy(dtype=float)
    assert need[users].mean() - need[~users].mean() > 2.0
    effects = dose_effects(cohort).set_index(["dose change", "outcome"])
    assert abs(effects.loc[("stop", "relapse_24w"), "naive - true"]) > 0.01
    assert abs(effects.loc[("1.5x", "liver_event_24w"), "naive - true"]) > 0.02
    # kratom eases relapse in the central scenario: stopping it raises the true risk
    assert effects.loc[("stop", "relapse_24w"), "true change"] > 0


def test_users_and_non_users_have_the_same_mean_alt_at_typical_doses(
    cohort: SyntheticCohort,
) -> None:
    """Malaysian regular users had normal chemistry (clinical-facts §1): at doses up to the 90th
    centile, week-12 mean ALT differs by less than 2 U/L."""
    p, v = cohort.patients, cohort.visits
    alt12 = v[v["week"] == 12].set_index("patient_id")["alt_u_l"].reindex(p["patient_id"])
    users = (p["kratom_product"] != "none").to_numpy()
    dose = p["kratom_dose_g_day"].to_numpy(dtype=float)
    typical = users & (dose <= np.quantile(dose[users], 0.9))
    values = alt12.to_numpy(dtype=float)
    assert abs(np.nanmean(values[typical]) - np.nanmean(values[~users])) < 2.0


def test_arms_reproduce_the_trials_contrasts_for_the_same_patients(
    cohort: SyntheticCohort, config: GeneratorConfig
) -> None:
    patients = cohort.patients.head(4000)
    relapse = {
        arm: true_risks(patients.assign(moud_arm=arm), config)["p_relapse_24w_true"].mean()
        for arm in ("methadone", "buprenorphine", "xr_naltrexone")
    }
    assert 0.03 < relapse["buprenorphine"] - relapse["methadone"] < 0.13  # CTN-0027: +7.7
    assert 0.04 < relapse["xr_naltrexone"] - relapse["buprenorphine"] < 0.14  # CTN-0051: +9.0


def test_xr_naltrexone_blocks_kratoms_relapse_benefit(
    cohort: SyntheticCohort, config: GeneratorConfig
) -> None:
    """An antagonist that was started leaves nothing for kratom to do: stopping kratom changes no
    XR-naltrexone patient's relapse risk once induction failures are taken out."""
    no_failures = config.relapse.model_copy(
        update={"induction_failure": {**config.relapse.induction_failure, "xr_naltrexone": 0.0}}
    )
    cfg = config.model_copy(update={"relapse": no_failures})
    users = cohort.patients[cohort.patients["kratom_product"] != "none"].head(1000)
    on_xr = users.assign(moud_arm="xr_naltrexone")
    kept = true_risks(on_xr, cfg, Intervention(1.0))["p_relapse_24w_true"]
    stopped = true_risks(on_xr, cfg, Intervention(0.0))["p_relapse_24w_true"]
    np.testing.assert_allclose(stopped, kept, atol=1e-12)
    on_bup = users.assign(moud_arm="buprenorphine")
    change = (
        true_risks(on_bup, cfg, Intervention(0.0))["p_relapse_24w_true"]
        - true_risks(on_bup, cfg, Intervention(1.0))["p_relapse_24w_true"]
    )
    assert change.mean() > 0.005


def test_scenarios_order_kratom_harm_and_benefit(cohort: SyntheticCohort) -> None:
    """Low, central and high: more liver harm and more relapse benefit in that order; the low
    scenario's benefit is zero, so stopping kratom changes no relapse risk at all."""
    users = cohort.patients[cohort.patients["kratom_product"] != "none"].head(1500)
    harm, benefit = {}, {}
    for name in ("low", "central", "high"):
        cfg = cohort.config.model_copy(update={"scenario": name})
        kept = true_risks(users, cfg, Intervention(1.0))
        stopped = true_risks(users, cfg, Intervention(0.0))
        harm[name] = float((kept["p_liver_24w_true"] - stopped["p_liver_24w_true"]).mean())
        benefit[name] = float((stopped["p_relapse_24w_true"] - kept["p_relapse_24w_true"]).mean())
    assert 0 < harm["low"] < harm["central"] < harm["high"]
    assert benefit["low"] == pytest.approx(0.0, abs=1e-12)
    assert 0 < benefit["central"] < benefit["high"]


def test_non_users_carry_no_kratom_injury(cohort: SyntheticCohort) -> None:
    non_users = (cohort.patients["kratom_product"] == "none").to_numpy()
    assert not cohort.latent["kratom_reaction"].to_numpy(dtype=bool)[non_users].any()
    weekly = cohort.visits["kratom_dose_g"].to_numpy().reshape(len(non_users), -1)
    assert np.nansum(weekly[non_users]) == 0


def test_reactions_follow_a_start_or_a_dose_increase(cohort: SyntheticCohort) -> None:
    """Latency runs from the last trigger: reactions after an increase begin after it, and the
    cohort holds no reaction that began before entry."""
    latent = cohort.latent
    reacted = latent["kratom_reaction"].to_numpy(dtype=bool)
    onset = latent["kratom_injury_onset_day"].to_numpy(dtype=float)
    assert reacted.sum() > 20 and (onset[reacted] >= 0).all()
    increase = latent["kratom_dose_increase_week"].astype("Float64").to_numpy(na_value=np.nan)
    after = reacted & (onset > 7 * np.nan_to_num(increase, nan=np.inf))
    latency = latent["kratom_latency_days"].to_numpy(dtype=float)
    np.testing.assert_allclose(latency[after], onset[after] - 7 * increase[after], atol=0.06)


def test_enzymes_fall_after_kratom_is_stopped(cohort: SyntheticCohort) -> None:
    latent = cohort.latent
    stopped = (latent["liver_event_cause"] == "kratom") & (latent["kratom_stop_week"] <= 8)
    ids = latent.loc[stopped.fillna(False), ["patient_id", "kratom_stop_week"]]
    labs = cohort.visits.set_index(["patient_id", "week"])["alt_u_l"]
    at_stop = labs.loc[list(zip(ids["patient_id"], ids["kratom_stop_week"], strict=True))]
    at_24 = labs.loc[list(zip(ids["patient_id"], [24] * len(ids), strict=True))]
    both = at_stop.notna().to_numpy() & at_24.notna().to_numpy()
    assert both.sum() > 10
    assert np.median(at_24.to_numpy()[both] / at_stop.to_numpy()[both]) < 0.5
