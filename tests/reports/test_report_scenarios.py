"""The report's scenario table (issue 13 item 4): the served model's mean predicted risk on the
test rows beside the scenario models' (trained by the synthetic pipeline's model.scenarios),
for kratom users and non-users, recomputed here from the registered model."""

from __future__ import annotations

import numpy as np
from conftest import Built

from hepatorisk import tracking
from hepatorisk.reports import ReportData
from hepatorisk.reports.artifacts import load_run


def test_the_scenario_table_is_the_registered_models_answers(built: Built) -> None:
    data = ReportData.read(built.out / "report.json")
    table = data.bands["scenarios"]
    assert table is not None, "the synthetic pipelines train scenario models (model.scenarios)"
    assert table["scenarios"] == ["low", "central", "high"] and table["served"] == "central"
    tracking.configure(built.tracking_uri)
    run = load_run(built.model_uri)
    test = run.records[run.records["split"] == "test"].reset_index(drop=True)
    user = (test["kratom_product"].astype("string") != "none").to_numpy(dtype=bool)
    by_group = {r["group"]: r for r in table["rows"]}
    assert by_group["kratom users"]["n"] == int(user.sum())
    again = run.bundle.scenario_probabilities(test)
    p_model = run.predictions["p_model"].to_numpy(dtype=float)
    for group, mask in (("kratom users", user), ("non-users", ~user)):
        mean = by_group[group]["mean"]
        assert mean["central"] == float(p_model[mask].mean())
        for name in ("low", "high"):
            assert np.isclose(mean[name], float(again[name][mask].mean()), rtol=0, atol=1e-12)
    html = (built.out / "report.html").read_text()
    assert (
        "under the synthetic cohort&#39;s scenarios" in html
        or "under the synthetic cohort's scenarios" in html
    )
    assert f"{100 * by_group['kratom users']['mean']['high']:.1f}%" in html
