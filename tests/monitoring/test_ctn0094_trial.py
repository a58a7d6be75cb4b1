"""CTN-0094 as a real new site: trained on CTN-0027 and CTN-0030, deployed in CTN-0051 (X:BOT).

The monitor must flag the drift (a trial and arms never seen, and what its patients report), the
calibration on the left-out trial is off, and recalibration fitted on half of the trial brings
the calibration intercept on the other half to about 0. The slope is not restored (the model
barely ranks in this trial; README: "After deployment"), so the local gate refuses the
challenger: both are asserted, as measured."""

from __future__ import annotations

import pytest
from monitoring_support import REPO

from hepatorisk.monitoring.trial_case import TrialCase, leave_trial_out

PIPELINE = REPO / "pipelines" / "relapse_ctn0094_entry.yaml"


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> TrialCase:
    return leave_trial_out(PIPELINE, "CTN-0051", tmp_path_factory.mktemp("ctn0094"))


@pytest.mark.slow
def test_the_left_out_trial_is_flagged(case: TrialCase) -> None:
    m = case.monitored
    flagged = {f["column"] for f in m["input_drift"] if f["status"] == "flag"}
    assert {"trial", "arm"} <= flagged  # levels never seen in training
    assert "tlfb_heroin_days" in flagged  # and a shift in what the trial's patients report
    assert m["prediction_drift"]["status"] == "flag"
    assert m["drift_flagged"] and any(f.startswith("miscalibrated") for f in m["flags"])


@pytest.mark.slow
def test_recalibration_on_half_the_trial_restores_the_intercept_on_the_other(
    case: TrialCase,
) -> None:
    before, after = case.gate.champion, case.gate.challenger
    assert before["cal_intercept_hi"] < 0  # relapse over-predicted in X:BOT
    assert abs(after["cal_intercept"]) < 0.1
    assert after["cal_intercept_lo"] < 0 < after["cal_intercept_hi"]
    assert case.recalibration.method == "intercept"  # slope CI includes 1 on ~285 patients
    # the slope stays far below 0.8: the gate says so and refuses the challenger
    assert not case.gate.passed
    assert any(r.startswith("FAIL: calibration slope") for r in case.gate.reasons)
