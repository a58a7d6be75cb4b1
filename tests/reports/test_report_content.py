"""report.json holds every section, its numbers are the run's, and the report is logged."""

from __future__ import annotations

import json
import re

import mlflow
import pytest
from conftest import Built

from hepatorisk import tracking
from hepatorisk.reports import SECTIONS, ReportData

SECTION_KEYS = (
    "meta",
    "model_card",
    "table_one",
    "performance",
    "curves",
    "shap",
    "subgroups",
    "liver",
    "tripod",
    "bands",
    "equity",
)


def test_report_json_has_every_section(built: Built) -> None:
    document = json.loads((built.out / "report.json").read_text())
    for key in SECTION_KEYS:
        assert document.get(key), key
    card = document["model_card"]
    for key in ("intended_use", "intended_users", "out_of_scope", "decision_support"):
        assert card[key], key
    assert card["provenance"] and card["outcome_definition"] and card["ethics"]
    assert document["table_one"]["columns"] == [
        "Overall",
        "Development (train + calibration)",
        "Test (held out)",
    ]
    shap = document["shap"]
    assert "log-odds" in shap["scale"]
    assert len(shap["dependence"]) == 3  # dose, mitragynine per day, ALT multiple
    assert "not the effect of changing a value" in shap["caveat"]
    assert [e["name"] for e in shap["examples"]] == ["low", "middle", "high"]
    probabilities = [e["probability"] for e in shap["examples"]]
    assert probabilities == sorted(probabilities)
    for example in shap["examples"]:  # exact: contributions add up to the prediction
        total = example["base_value"] + example["other"]["log_odds"]
        total += sum(c["log_odds"] for c in example["contributions"])
        assert total == pytest.approx(example["log_odds"], abs=1e-9)
    liver = document["liver"]
    assert len(liver["alt_peak_xuln"]) == len(liver["bili_peak_xuln"]) == liver["n"]
    assert set(liver["patterns"]) == {"development", "test"}
    statuses = {item["status"] for item in document["tripod"]}
    assert statuses <= {"covered", "partly", "not addressed"}
    assert len(document["tripod"]) == 52
    assert "not addressed" in statuses


def test_numbers_are_the_runs_metrics(built: Built) -> None:
    tracking.configure(built.tracking_uri)
    logged = mlflow.MlflowClient().get_run(built.run_id).data.metrics
    data = ReportData.read(built.out / "report.json")
    rows = {r["metric"]: r for r in data.performance["rows"]}
    for metric, row in rows.items():
        for column, prefix in (("model", "test_"), ("baseline", "baseline_test_")):
            for part, suffix in (("estimate", ""), ("lo", "_lo"), ("hi", "_hi")):
                assert row[column][part] == logged[f"{prefix}{metric}{suffix}"], (metric, column)
    assert rows["auroc"]["oracle"]["estimate"] == logged["oracle_auroc"]
    assert data.performance["auroc_vs_oracle"]["estimate"] == logged["auroc_vs_oracle"]
    assert data.performance["auroc_minus_baseline"]["lo"] == logged["auroc_minus_baseline_lo"]
    assert data.performance["n"] == logged["test_n"]
    assert data.meta["run_id"] == built.run_id
    what_if = {r["change"]: r for r in data.performance["what_if"]}
    assert list(what_if) == ["stop", "half", "1p5x"]
    for change, row in what_if.items():
        for part in ("n", "model_mean", "true_mean", "naive", "mae", "bias"):
            assert row[part] == logged[f"whatif_{change}_{part}"], (change, part)


def test_training_run_records_its_code_version_and_the_report_shows_it(built: Built) -> None:
    tracking.configure(built.tracking_uri)
    params = mlflow.MlflowClient().get_run(built.run_id).data.params
    commit = params["code.git_commit"]
    assert commit == "unknown" or re.fullmatch(r"[0-9a-f]{40}", commit), commit
    assert params["code.git_dirty"] in ("true", "false", "unknown")
    assert "lightgbm " in params["code.libraries"] and "shap " in params["code.libraries"]
    data = ReportData.read(built.out / "report.json")
    assert data.meta["code_commit"] == commit
    html = (built.out / "report.html").read_text()
    assert commit in html and params["code.libraries"] in html


def test_report_is_logged_to_the_models_run(built: Built) -> None:
    tracking.configure(built.tracking_uri)
    listed = {a.path for a in mlflow.MlflowClient().list_artifacts(built.run_id, "report")}
    assert listed == {"report/report.html", "report/report.json", "report/report.pdf"}


def test_html_is_self_contained_and_has_every_section(built: Built) -> None:
    html = (built.out / "report.html").read_text()
    for _, heading in SECTIONS:
        assert f">{heading}</h2>" in html, heading
    for external in ('src="http', "src='http", "url(http", '<link rel="stylesheet"', "<script"):
        assert external not in html
    assert html.count("data:image/png;base64,") >= 13


def test_html_shows_the_dose_what_if_against_the_truth(built: Built) -> None:
    html = (built.out / "report.html").read_text()
    data = ReportData.read(built.out / "report.json")
    worst = max(data.performance["what_if"], key=lambda r: r["mae"])
    assert "<h3>Dose what-if against the true effect</h3>" in html
    for row in data.performance["what_if"]:
        assert f"<td>{row['label']}</td>" in html
        assert f"{100 * row['true_mean']:.2f}" in html
    # the sentence states the largest error as measured, and what it means
    assert f"missed each user's true change by {100 * worst['mae']:.1f} points" in html
    assert "must not be read as what a dose change would do" in html


def test_the_uncertainty_range_is_reported_as_the_run_measured_it(built: Built) -> None:
    """The range's coverage of the true risk, overall and at each landmark, is the run's."""
    tracking.configure(built.tracking_uri)
    logged = mlflow.MlflowClient().get_run(built.run_id).data.metrics
    data = ReportData.read(built.out / "report.json")
    summary = data.bands["range"]
    assert summary["coverage"] == logged["test_range_coverage"]
    assert summary["width_median"] == logged["test_range_width_median"]
    pooled = [r for r in data.bands["landmarks"] if r["design"] == "pooled model"]
    assert pooled, "a landmark pipeline's run has per-landmark rows"
    for row in pooled:
        assert row["range_coverage"] == logged[f"test_range_coverage_w{row['week']}"]
    html = (built.out / "report.html").read_text()
    assert f"held the true risk for {100 * logged['test_range_coverage']:.1f}%" in html


def test_the_gate_words_what_stands_in_for_an_unset_landmark_criterion(built: Built) -> None:
    html = (built.out / "report.html").read_text()
    found = re.search(r"Promotion gate: (.*?)\.</p>", html)
    assert found is not None
    sentence = found.group(1)
    assert "None" not in sentence
    # the pipeline sets no landmark criteria: the pooled ones apply, the oracle ratio is unchecked
    assert "landmark min auroc as pooled" in sentence
    assert "landmark calibration slope as pooled" in sentence
    assert "landmark min auroc vs oracle not checked" in sentence
    assert "min auroc 0.62" in sentence
