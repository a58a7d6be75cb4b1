"""No information from after randomization reaches the ``entry`` feature set.

Every dated record after each patient's randomization day is replaced by adversarial records
(opioid-positive screens and heroin use every day, maximal withdrawal, severe pain, no visits);
the entry features must not move, while the outcomes and the week 1-3 screens must.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.ctn0094 import FEATURE_SETS, Ctn0094Cohort, RawTables, derive_cohort

_DATED = ("uds", "tlfb", "visit", "pain", "withdrawal")


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
    future_uds = pd.DataFrame({"who": who, "what": "Opioid", "when": when})
    future_tlfb = pd.DataFrame({"who": who, "what": "Heroin", "when": when})
    future_wd = pd.DataFrame({"who": who, "withdrawal": "3", "when": when})
    # pain has one row per patient: move every assessment to after randomization
    pain = raw.pain.assign(when=raw.pain["who"].map(rand_day).fillna(0) + 1, pain="Severe Pain")
    return raw.replace(
        uds=pd.concat([kept["uds"], future_uds], ignore_index=True),
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
    entry = ["who", *FEATURE_SETS["entry"]]
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
