"""Luo et al. 2024's entry predictors, coded from the raw tables as the paper defines them.

Heroin use days (TLFB), the baseline urine sample positive for opioids (the harmonized group that
holds the morphine assay) and for cocaine, and days of heroin injection in the past 30 (RBS-IV).
"""

from __future__ import annotations

import pandas as pd

from hepatorisk.cohorts.ctn0094 import Ctn0094Cohort, RawTables
from hepatorisk.cohorts.ctn0094.features import BASELINE_WINDOW_START, LUO_ENTRY_FEATURES


def test_luo_predictors_are_entry_columns(ctn_cohort: Ctn0094Cohort) -> None:
    assert LUO_ENTRY_FEATURES == (
        "tlfb_heroin_days",
        "uds_opioid_baseline",
        "uds_cocaine_baseline",
        "rbs_iv_heroin_days",
    )
    assert set(LUO_ENTRY_FEATURES) <= set(ctn_cohort.patients.columns)


def test_baseline_sample_is_the_first_sample_up_to_randomization(
    ctn_raw: RawTables, ctn_cohort: Ctn0094Cohort
) -> None:
    patients = ctn_cohort.patients.set_index("who")
    day = patients["uds_baseline_day"].dropna()
    rand = patients.loc[day.index, "days_consent_to_randomization"]
    assert (day <= rand).all() and (day >= BASELINE_WINDOW_START).all()
    # recomputed from both sample tables: the earliest dated sample in the window
    samples = pd.concat([ctn_raw.uds_temp[["who", "when"]], ctn_raw.uds[["who", "when"]]])
    samples = samples[samples["who"].isin(patients.index)].dropna()
    limit = samples["who"].map(patients["days_consent_to_randomization"])
    first = samples[samples["when"].between(BASELINE_WINDOW_START, limit)].groupby("who")["when"]
    pd.testing.assert_series_equal(
        day.astype("float64"), first.min().loc[day.index], check_names=False
    )
    # no sample by randomization: unknown, never "negative" (28 CTN-0030 patients)
    missing = patients[patients["uds_baseline_day"].isna()]
    assert len(missing) == 28 and (missing["trial"] == "CTN-0030").all()
    assert missing["uds_opioid_baseline"].isna().all()
    assert missing["uds_cocaine_baseline"].isna().all()
    assert not missing["uds_opioid_positive_entry"].any()  # the older flag calls them negative


def test_baseline_screen_results(ctn_raw: RawTables, ctn_cohort: Ctn0094Cohort) -> None:
    patients = ctn_cohort.patients.set_index("who")
    known = patients[patients["uds_baseline_day"].notna()]
    for what, name in (("Opioid", "opioid"), ("Cocaine", "cocaine")):
        column = f"uds_{name}_baseline"
        positive = ctn_raw.uds[ctn_raw.uds["what"] == what]
        hits = positive.merge(
            known["uds_baseline_day"].astype("float64").rename("when").reset_index()
        )
        expected = known.index.isin(hits["who"])
        assert (known[column].to_numpy(dtype=bool) == expected).all(), column
        # a positive baseline sample is a positive screen by randomization, not the other way
        # round: later pre-randomization samples can be positive after a negative first one
        assert known.loc[known[column].astype(bool), f"uds_{name}_positive_entry"].all()
    assert int(patients["uds_opioid_baseline"].sum()) == 1867
    assert int(patients["uds_cocaine_baseline"].sum()) == 568
    assert int(patients["uds_opioid_positive_entry"].sum()) == 1884


def test_heroin_injection_days_undo_the_plus_one_coding(
    ctn_raw: RawTables, ctn_cohort: Ctn0094Cohort
) -> None:
    raw = ctn_raw.rbs_iv.set_index("who")
    patients = ctn_cohort.patients.set_index("who")
    days = patients["rbs_iv_heroin_days"]
    assert days.min() == 0 and days.max() == 30
    stored = raw.loc[patients.index, "heroin_inject_days"]
    # v1.0.6 stores days + 1: 1 is "no day", 31 "every day of the past 30"
    assert (days[stored.notna()] == stored.dropna() - 1).all()
    # where the heroin item is blank, no injection at all means no heroin injection
    any_days = raw.loc[patients.index, "days"]
    assert (days[stored.isna() & (any_days == 0)] == 0).all()
    assert days[stored.isna() & (any_days != 0)].isna().all()
    # never more heroin injection days than injection days of any drug
    both = days.notna() & any_days.notna()
    assert (days[both] <= any_days[both]).all()
    # CTN-0030 (prescription opioids) reports no heroin injection
    assert (days[patients["trial"] == "CTN-0030"].dropna() == 0).all()
