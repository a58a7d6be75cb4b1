"""No information from after randomization reaches the ``entry`` feature set.

Every dated record after each patient's randomization day is replaced by adversarial records
(a urine sample every day, opioid- and cocaine-positive, heroin use every day, maximal withdrawal,
severe pain, no visits); the entry features must not move, while the outcomes and the week 1-3
screens must. Every feature set without the weeks 1-3 screens is part of ``entry``, so this covers
them all.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.ctn0094 import FEATURE_SETS, Ctn0094Cohort, RawTables, derive_cohort

_DATED = ("uds", "uds_temp", "tlfb", "visit", "pain", "withdrawal")
_WEEK3 = {"uds_week1", "uds_week2", "uds_week3", "uds_weeks1_3_not_negative"}


def _rand_day(raw: RawTables) -> pd.Series:
    rand = raw.randomization
    return rand[rand["which"].astype(int) == 1].set_index("who")["when"]


def _after(frame: pd.DataFrame, rand_day: pd.Series) -> pd.Series:
    day = frame["who"].map(rand_day)
    return day.notna() & (frame["when"] > day)


def _adversarial_future(raw: RawTables) -> RawTables:
    rand_day = _rand_day(raw)
    who = np.repeat(rand_day.index.to_numpy(), 200)
    when = np.tile(np.arange(1, 201), len(rand_day)) + np.repeat(rand_day.to_numpy(), 200)
    kept = {name: getattr(raw, name)[~_after(getattr(raw, name), rand_day)] for name in _DATED}
    future_uds = pd.concat(
        [pd.DataFrame({"who": who, "what": w, "when": when}) for w in ("Opioid", "Cocaine")]
    )
    future_temp = pd.DataFrame({"who": who, "was_temp_ok": "1", "when": when})
    future_tlfb = pd.DataFrame({"who": who, "what": "Heroin", "when": when})
    future_wd = pd.DataFrame({"who": who, "withdrawal": "3", "when": when})
    # pain has one row per patient: move every assessment to after randomization
    pain = raw.pain.assign(when=raw.pain["who"].map(rand_day).fillna(0) + 1, pain="Severe Pain")
    return raw.replace(
        uds=pd.concat([kept["uds"], future_uds], ignore_index=True),
        uds_temp=pd.concat([kept["uds_temp"], future_temp], ignore_index=True),
        tlfb=pd.concat([kept["tlfb"], future_tlfb], ignore_index=True),
        visit=kept["visit"],
        withdrawal=pd.concat([kept["withdrawal"], future_wd], ignore_index=True),
        pain=pd.concat([kept["pain"][kept["pain"]["when"] <= -1000], pain], ignore_index=True),
    )


@pytest.fixture(scope="module")
def perturbed(ctn_raw: RawTables) -> Ctn0094Cohort:
    return derive_cohort(_adversarial_future(ctn_raw))


def test_entry_features_ignore_everything_after_randomization(
    ctn_cohort: Ctn0094Cohort, perturbed: Ctn0094Cohort
) -> None:
    for name, columns in FEATURE_SETS.items():
        assert set(columns) <= set(FEATURE_SETS["entry"]) | _WEEK3, name
    # the baseline sample's day is not a model input, but it is entry information all the same
    entry = ["who", *FEATURE_SETS["entry"], "uds_baseline_day"]
    pain_known = ctn_cohort.patients["pain_entry"].notna()
    before = ctn_cohort.patients[entry]
    after = perturbed.patients[entry]
    # pain assessed after randomization is not an entry feature: it was already missing for those
    # patients, and moving every assessment past randomization must empty the column, not fill it
    assert after["pain_entry"].isna().all()
    pd.testing.assert_frame_equal(
        before.drop(columns="pain_entry"), after.drop(columns="pain_entry")
    )
    assert pain_known.any()  # the pain check above had something to remove


def test_the_perturbation_reaches_outcomes_and_week3(
    ctn_cohort: Ctn0094Cohort, perturbed: Ctn0094Cohort
) -> None:
    # the same perturbation that leaves entry features alone changes everything post-entry
    assert perturbed.outcomes["relapse_ctn0094"].all()
    assert perturbed.outcomes["relapse_12w"].all()
    assert not ctn_cohort.outcomes["relapse_12w"].all()
    assert (perturbed.patients["uds_week1"] == "positive").all()
    assert (ctn_cohort.patients["uds_week1"] != "positive").any()


def test_a_change_on_the_randomization_day_does_reach_entry(
    ctn_raw: RawTables, ctn_cohort: Ctn0094Cohort
) -> None:
    # the control: a screen on the randomization day itself (end of week 0) is entry information
    negative = ctn_cohort.patients.loc[~ctn_cohort.patients["uds_cocaine_positive_entry"], "who"]
    who = int(negative.iloc[0])
    day = float(_rand_day(ctn_raw)[who])
    extra = pd.DataFrame({"who": [who], "what": ["Cocaine"], "when": [day]})
    cohort = derive_cohort(ctn_raw.replace(uds=pd.concat([ctn_raw.uds, extra], ignore_index=True)))
    row = cohort.patients.set_index("who").loc[who]
    assert bool(row["uds_cocaine_positive_entry"])


def test_no_baseline_sample_stays_missing_whatever_comes_after(
    ctn_cohort: Ctn0094Cohort, perturbed: Ctn0094Cohort
) -> None:
    # patients with no urine sample by randomization (CTN-0030) get a sample every day after it in
    # the perturbed data, positive for opioids and cocaine: their baseline must stay unknown
    none = ctn_cohort.patients["uds_baseline_day"].isna()
    assert int(none.sum()) == 28
    after = perturbed.patients.set_index("who").loc[ctn_cohort.patients.loc[none, "who"]]
    for column in ("uds_baseline_day", "uds_opioid_baseline", "uds_cocaine_baseline"):
        assert after[column].isna().all(), column


def test_a_sample_on_the_randomization_day_is_a_baseline_sample(
    ctn_raw: RawTables, ctn_cohort: Ctn0094Cohort
) -> None:
    # the control for the test above: the randomization day itself still belongs to entry
    patients = ctn_cohort.patients
    who = int(patients.loc[patients["uds_baseline_day"].isna(), "who"].iloc[0])
    day = float(_rand_day(ctn_raw)[who])
    sample = pd.DataFrame({"who": [who], "was_temp_ok": ["1"], "when": [day]})
    screen = pd.DataFrame({"who": [who], "what": ["Opioid"], "when": [day]})
    cohort = derive_cohort(
        ctn_raw.replace(
            uds_temp=pd.concat([ctn_raw.uds_temp, sample], ignore_index=True),
            uds=pd.concat([ctn_raw.uds, screen], ignore_index=True),
        )
    )
    row = cohort.patients.set_index("who").loc[who]
    assert row["uds_baseline_day"] == day
    assert bool(row["uds_opioid_baseline"]) and not bool(row["uds_cocaine_baseline"])
