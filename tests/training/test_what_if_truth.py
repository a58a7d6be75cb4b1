"""The dose what-if against the truth: the evaluate step on the committed synthetic sample
compares the model's change on the edited record with the generator's true change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from training_support import FAST, PIPELINES, SAMPLE

from hepatorisk.cohorts.synthetic.generate import Intervention, load_cohort, true_risks
from hepatorisk.training import steps
from hepatorisk.training.dose_edit import MAX_DOSE_G_DAY, dose_edit, edited_records
from hepatorisk.training.spec import load_pipeline
from hepatorisk.training.what_if_truth import DOSE_CHANGES, what_if_truth

PARTS = ("n", "model_mean", "true_mean", "naive", "mae", "bias")
Run = tuple[steps.Dataset, steps.Split, steps.Trained, steps.Evaluation]


@pytest.fixture(scope="module")
def liver_run() -> Run:
    spec = load_pipeline(PIPELINES / "liver_synthetic.yaml", FAST)
    root = SAMPLE.parents[2]  # the pipeline's cohort path is read under a root; point it here
    spec = spec.model_copy(
        update={"cohort": spec.cohort.model_copy(update={"path": str(SAMPLE.relative_to(root))})}
    )
    dataset = steps.ingest(spec, root)
    parts = steps.split(dataset, spec)
    trained = steps.calibrate(dataset, parts, steps.train(dataset, parts, spec))
    return dataset, parts, trained, steps.evaluate(dataset, parts, trained, spec)


def test_dose_edit_is_the_services_record_change() -> None:
    assert dose_edit(8.0, 0.0) == {
        "kratom_product": "none",
        "kratom_dose_g_day": 0.0,
        "mitragynine_mg_per_g": None,
        "kratom_use_weeks": None,
    }
    assert dose_edit(8.0, 1.5) == {"kratom_dose_g_day": 12.0}
    assert dose_edit(MAX_DOSE_G_DAY, 1.5) is None  # beyond the record contract: no what-if
    assert dose_edit(MAX_DOSE_G_DAY, 0.5) == {"kratom_dose_g_day": MAX_DOSE_G_DAY / 2}


def test_edited_records_keep_the_cohorts_types_and_drop_out_of_range_rows() -> None:
    patients = load_cohort(SAMPLE).patients
    users = patients[patients["kratom_product"] != "none"].head(5).copy()
    users.iloc[0, users.columns.get_loc("kratom_dose_g_day")] = 80.0  # 1.5x leaves the range
    stopped, has = edited_records(users, 0.0)
    assert has.all()
    assert (stopped["kratom_product"] == "none").all()
    assert stopped["kratom_product"].dtype == users["kratom_product"].dtype
    assert stopped["mitragynine_mg_per_g"].isna().all()
    assert stopped["kratom_use_weeks"].isna().all()
    assert stopped["kratom_use_weeks"].dtype == users["kratom_use_weeks"].dtype
    more, has = edited_records(users, 1.5)
    assert has.tolist() == [False, True, True, True, True]
    np.testing.assert_allclose(
        more["kratom_dose_g_day"], 1.5 * users["kratom_dose_g_day"].to_numpy()[1:]
    )
    untouched = [c for c in users.columns if c != "kratom_dose_g_day"]
    pd.testing.assert_frame_equal(more[untouched], users[untouched].iloc[1:])


def test_evaluate_logs_the_what_if_against_the_truth(liver_run: Run) -> None:
    dataset, parts, trained, evaluation = liver_run
    table = evaluation.what_if.set_index("dose_change")
    assert list(table.index) == list(DOSE_CHANGES)
    for name in DOSE_CHANGES:
        for part in PARTS:
            assert evaluation.metrics[f"whatif_{name}_{part}"] == table.loc[name, part]

    # recomputed here by hand: the model's change, the true change, on the test users
    test = dataset.frame.iloc[parts.test]
    test = test[test["landmark_week"] == 0]  # the true effect is that of a dose set from entry
    users = test[test["kratom_product"] != "none"]
    stopped = users.assign(
        kratom_product=pd.Categorical(
            ["none"] * len(users), categories=users["kratom_product"].cat.categories
        ),
        kratom_dose_g_day=0.0,
        mitragynine_mg_per_g=np.nan,
        kratom_use_weeks=pd.array([pd.NA] * len(users), dtype="Int64"),
    )
    bundle = trained.bundle
    model = bundle.predict_proba(stopped) - bundle.predict_proba(users)
    config = load_cohort(dataset.source).config
    kept = true_risks(users, config, Intervention(1.0))["p_liver_true"].to_numpy()
    true = true_risks(users, config, Intervention(0.0))["p_liver_true"].to_numpy() - kept
    ok = np.isfinite(true)
    assert table.loc["stop", "n"] == ok.sum() > 100
    assert table.loc["stop", "model_mean"] == pytest.approx(model[ok].mean(), abs=1e-12)
    assert table.loc["stop", "true_mean"] == pytest.approx(true[ok].mean(), abs=1e-12)
    assert table.loc["stop", "mae"] == pytest.approx(np.abs(model - true)[ok].mean(), abs=1e-12)
    for name in DOSE_CHANGES:
        row = table.loc[name]
        assert row["bias"] == pytest.approx(row["model_mean"] - row["true_mean"], abs=1e-12)
        assert row["mae"] >= abs(row["bias"]) - 1e-12
    # the truth the models cannot see: a dose increase restarts the injury latency
    assert table.loc["1p5x", "true_mean"] > 0.02
    assert table.loc["1p5x", "mae"] > 0.02
    # naive stop: non-users' event rate minus users' in the same test rows
    y = dataset.y[parts.test][dataset.frame["landmark_week"].to_numpy()[parts.test] == 0]
    is_user = (test["kratom_product"] != "none").to_numpy()
    assert table.loc["stop", "naive"] == pytest.approx(y[~is_user].mean() - y[is_user].mean())


def test_no_truth_no_what_if_rows() -> None:
    """A pipeline without an oracle (a real cohort) logs no what-if comparison."""
    spec = load_pipeline(PIPELINES / "liver_synthetic.yaml", FAST)
    spec = spec.model_copy(update={"oracle": None})
    root = SAMPLE.parents[2]
    spec = spec.model_copy(
        update={"cohort": spec.cohort.model_copy(update={"path": str(SAMPLE.relative_to(root))})}
    )
    dataset = steps.ingest(spec, root)
    parts = steps.split(dataset, spec)
    trained = steps.calibrate(dataset, parts, steps.train(dataset, parts, spec))
    evaluation = steps.evaluate(dataset, parts, trained, spec)
    assert evaluation.what_if.empty
    assert not any(k.startswith("whatif_") for k in evaluation.metrics)


def test_stopping_has_no_true_relapse_effect_without_a_relapse_benefit(liver_run: Run) -> None:
    """Scenario ``low`` (kratom_effects: no relapse benefit): the true change in relapse risk
    from stopping kratom is zero for every user, while the central scenario's is not."""
    dataset, parts, trained, _ = liver_run
    cohort = load_cohort(SAMPLE)
    low = cohort.config.model_copy(update={"scenario": "low"})
    assert low.effects.craving_emax == low.effects.withdrawal_emax == 0  # no relapse benefit
    test = dataset.frame.iloc[parts.test]
    y = dataset.frame["relapse_12w"].to_numpy(dtype=int)[parts.test]
    table = what_if_truth(trained.bundle, test, y, low, "p_relapse_true").set_index("dose_change")
    assert table.loc["stop", "true_mean"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc["half", "true_mean"] == pytest.approx(0.0, abs=1e-12)
    users = cohort.patients[cohort.patients["kratom_product"] != "none"]
    kept = true_risks(users, low, Intervention(1.0))["p_relapse_true"].to_numpy()
    stopped = true_risks(users, low, Intervention(0.0))["p_relapse_true"].to_numpy()
    np.testing.assert_allclose(stopped, kept, rtol=0, atol=1e-12)  # every user, to rounding
    central = true_risks(users, cohort.config, Intervention(0.0))["p_relapse_true"].to_numpy()
    central_kept = true_risks(users, cohort.config, Intervention(1.0))["p_relapse_true"]
    assert np.mean(central - central_kept.to_numpy()) > 0.005  # stopping loses the benefit


def test_no_kratom_users_no_what_if(liver_run: Run) -> None:
    dataset, parts, trained, _ = liver_run
    test = dataset.frame.iloc[parts.test]
    none = (test["kratom_product"] == "none").to_numpy()
    config = load_cohort(dataset.source).config
    y = dataset.y[parts.test][none]
    assert what_if_truth(trained.bundle, test[none], y, config, "p_liver_true").empty
