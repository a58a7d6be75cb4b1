"""The report's figures, looked at: every patient drawn, no bar outside its axes, no label over
another, and the page-1 facts label and band tables present."""

from __future__ import annotations

import copy
import itertools
import re
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import Built
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox

from hepatorisk.clinical.monitoring import load_policy
from hepatorisk.figures import explanation as fx
from hepatorisk.figures.style import styled
from hepatorisk.reports import ReportData
from hepatorisk.reports.card import decision_support_statement


@pytest.fixture(scope="module")
def data(built: Built) -> ReportData:
    return ReportData.read(built.out / "report.json")


def _canvas(fig: Figure) -> FigureCanvasAgg:
    """The figure's Agg canvas (a plain Figure gets one; shap's pyplot figures have it)."""
    if isinstance(fig.canvas, FigureCanvasAgg):
        return fig.canvas
    return FigureCanvasAgg(fig)


def _drawn(func: Any, *args: Any) -> Figure:
    with styled():
        fig, _ = func(*args)
        _canvas(fig).draw()
    return fig


def _points_per_row(ax: Axes, rows: int) -> list[int]:
    counts = [0] * rows
    for collection in ax.collections:
        if isinstance(collection, PathCollection):
            for _, y in collection.get_offsets():
                counts[round(float(y))] += 1
    return counts


def test_beeswarm_draws_every_sampled_patient_in_every_row(data: ReportData) -> None:
    shap = data.shap
    fig = _drawn(fx.beeswarm_figure, shap)
    try:
        assert _points_per_row(fig.axes[0], len(shap["beeswarm"])) == [shap["sample"]] * len(
            shap["beeswarm"]
        )
    finally:
        plt.close(fig)


def test_beeswarm_draws_patients_whose_value_is_missing(data: ReportData) -> None:
    """The v1 bug: a missing colour value made a dot invisible. Blank a third of one row."""
    shap = copy.deepcopy(data.shap)
    row = shap["beeswarm"][0]
    row["value"] = [None if i % 3 == 0 else v for i, v in enumerate(row["value"])]
    fig = _drawn(fx.beeswarm_figure, shap)
    try:
        counts = _points_per_row(fig.axes[0], len(shap["beeswarm"]))
        assert counts == [shap["sample"]] * len(shap["beeswarm"])
        greys = [
            c
            for c in fig.axes[0].collections
            if isinstance(c, PathCollection)
            and len(c.get_offsets())
            and np.allclose(c.get_facecolor()[0][:3], 0x77 / 255)
        ]
        assert sum(len(c.get_offsets()) for c in greys) >= len(row["value"]) // 3
    finally:
        plt.close(fig)


def test_kratom_non_users_are_none_not_missing(data: ReportData) -> None:
    rows = {r["variable"]: r for r in data.shap["beeswarm"]}
    values = [c["value"] for e in data.shap["examples"] for c in e["contributions"]]
    assert not any("not recorded" in v and "kratom" in v for v in values)
    if "kratom exposure" in rows:
        drawn = rows["kratom exposure"]["value"]
        assert 0 in drawn and rows["kratom exposure"]["unit"] == "mg/day"
    for panel in data.shap["dependence"]:
        if panel["none_at_zero"]:
            assert 0 in panel["x"], panel["input"]
    assert [p["input"] for p in data.shap["dependence"]] == [
        "kratom_dose_g_day",
        "mitragynine_mg_day",
        "alt_xuln",
    ]


def _bars_inside(ax: Axes) -> None:
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert bars
    for bar in bars:
        left, right = sorted((bar.get_x(), bar.get_x() + bar.get_width()))
        bottom, top = sorted((bar.get_y(), bar.get_y() + bar.get_height()))
        assert x0 <= left and right <= x1, (left, right, x0, x1)
        assert y0 <= bottom and top <= y1, (bottom, top, y0, y1)


def _labels(fig: Figure) -> list[tuple[str, Bbox]]:
    """Every text the figure draws: tick labels inside each axis's view (matplotlib keeps
    undrawn ticks beyond it), axis labels, titles, annotations and legend entries, including
    secondary axes."""
    renderer = _canvas(fig).get_renderer()
    texts: list[Any] = list(fig.texts)
    axes = [a for ax in fig.axes for a in (ax, *ax.child_axes)]
    for ax in axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = (hi - lo) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if lo - span <= tick.get_loc() <= hi + span:
                    texts += [tick.label1, tick.label2]
            texts.append(axis.label)
        texts += [ax.title, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += legend.get_texts()
    shown = [t for t in texts if t.get_visible() and t.get_text().strip()]
    return [(t.get_text(), t.get_window_extent(renderer)) for t in shown]


def _no_overlap(fig: Figure) -> None:
    boxes = _labels(fig)
    assert boxes
    width, height = fig.bbox.width, fig.bbox.height
    for text, box in boxes:  # inside the figure: nothing cut off at the edge
        assert box.x0 >= -1 and box.y0 >= -1, text
        assert box.x1 <= width + 1 and box.y1 <= height + 1, text
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        overlap = Bbox.intersection(box_a, box_b)
        if overlap is not None and overlap.width > 1 and overlap.height > 1:
            pytest.fail(f"labels overlap: {a!r} and {b!r}")


def test_waterfalls_keep_every_bar_inside_and_no_label_over_another(data: ReportData) -> None:
    for example in data.shap["examples"]:
        fig = _drawn(fx.waterfall_figure, example, data.shap)
        try:
            _bars_inside(fig.axes[0])
            _no_overlap(fig)
        finally:
            plt.close(fig)


def test_waterfall_values_carry_units(data: ReportData) -> None:
    labels = [c["value"] for e in data.shap["examples"] for c in e["contributions"]]
    numeric = [v for v in labels if re.match(r"^-?\d", v)]
    assert numeric
    for value in numeric:
        assert re.search(r"\d\s+\S", value), value  # a number is followed by its unit


def test_a_clipped_bar_and_overlapping_labels_would_be_caught() -> None:
    with styled():
        fig = Figure()
        ax = fig.subplots()
        ax.barh([0], [5.0])
        ax.set_xlim(0, 2)
        ax.text(0.5, 0.5, "first label")
        ax.text(0.5, 0.5, "second label")
        _canvas(fig).draw()
    with pytest.raises(AssertionError):
        _bars_inside(ax)
    with pytest.raises(pytest.fail.Exception, match="labels overlap"):
        _no_overlap(fig)


def test_bar_beeswarm_and_dependence_labels_do_not_overlap(data: ReportData) -> None:
    for func in (fx.bar_figure, fx.beeswarm_figure, fx.dependence_figure):
        fig = _drawn(func, data.shap)
        try:
            _no_overlap(fig)
        finally:
            plt.close(fig)


def test_histogram_and_calibration_labels_do_not_overlap(data: ReportData) -> None:
    from hepatorisk.figures.bands import risk_histogram_figure
    from hepatorisk.figures.performance import calibration_figure

    for fig in (
        _drawn(risk_histogram_figure, data.bands, data.meta["outcome_label"]),
        _drawn(calibration_figure, data.curves),
    ):
        _no_overlap(fig)


def test_calibration_bins_split_the_top_decile_without_tied_blocks(data: ReportData) -> None:
    bins = data.curves["calibration_bins"]
    sizes = [b["n"] for b in bins]
    assert sum(sizes) == data.performance["n"]
    assert max(sizes[:9]) - min(sizes[:9]) <= 1  # equal-count deciles, ties split
    assert bins[-1]["quantiles"][0] > 0.9 or len(bins) == 10
    smooth = data.curves["calibration_smooth"]
    band = zip(smooth["lo"], smooth["observed"], smooth["hi"], strict=True)
    assert all(lo <= o <= hi for lo, o, hi in band)


def test_facts_label_on_page_one_has_every_field(built: Built, data: ReportData) -> None:
    html = (built.out / "report.html").read_text()
    facts = html[html.index('<section id="facts"') : html.index("</section>")]
    assert html.index('<section id="facts"') < html.index('id="model-card"')
    for heading in (
        "Summary",
        "Mechanism",
        "Validation and performance",
        "Uses and directions",
        "Warnings",
        "Other information",
    ):
        assert f"<h3>{heading}</h3>" in facts, heading
    for field in ("Owner:", "Contact:", "Report a problem:", "Version:", data.meta["run_id"]):
        assert field in facts or field[:12] in facts, field
    assert "Observed event rate" in facts and "mean predicted risk" in facts
    assert "repeat or add liver tests" in facts  # the liver model's own directions


def test_relapse_decision_support_never_sends_the_reader_to_liver_tests() -> None:
    relapse = decision_support_statement("relapse_12w")
    assert "liver" not in relapse and "deny" in relapse
    assert "liver tests" in decision_support_statement("liver_event_12w")


def test_band_tables_use_the_service_policy_and_are_rendered(
    built: Built, data: ReportData
) -> None:
    cutoffs = load_policy().bands["liver"].cutoffs
    assert [c["cutoff"] for c in data.bands["cutoffs"]] == cutoffs
    html = (built.out / "report.html").read_text()
    assert html.count('<table class="band-table">') == len(cutoffs)
    y_events = data.performance["events"]
    for cutoff in data.bands["cutoffs"]:
        overall = cutoff["overall"]
        assert overall["n"] == data.performance["n"] and overall["events"] == y_events
        for key in ("share_flagged", "sensitivity", "specificity", "ppv", "npv"):
            interval = overall[key]
            if interval["estimate"] is not None:
                assert interval["lo"] <= interval["estimate"] <= interval["hi"], key
        assert overall["missed_per_1000"]["lo"] < overall["missed_per_1000"]["hi"]
        missed = overall["missed_per_1000"]["estimate"]
        sensitivity = overall["sensitivity"]["estimate"]
        rate = y_events / overall["n"]
        assert missed == pytest.approx(1000 * rate * (1 - sensitivity))
        assert cutoff["groups"], "no subgroup rows"


def test_fairness_contrasts_have_intervals_and_a_multiplicity_statement(
    built: Built, data: ReportData
) -> None:
    equity = data.equity
    assert equity["contrasts"] and equity["multiplicity"]["contrasts"] == len(equity["contrasts"])
    for row in equity["contrasts"]:
        d = row["difference"]
        if d["lo"] is not None:
            assert d["lo"] <= d["estimate"] <= d["hi"], row
    measures = {r["key"] for r in equity["contrasts"]}
    assert {"observed", "o_e", "auroc", "auroc_minus_oracle"} <= measures
    assert any(k.startswith("sensitivity_at_") for k in measures)
    inputs = {a["attribute"]: a["model_input"] for a in equity["protected_inputs"]}
    assert inputs["sex"] and inputs["race_ethnicity"]
    html = (built.out / "report.html").read_text()
    assert "Multiplicity:" in html and "Bonferroni" in html
    assert "non_hispanic" not in html.split('id="tripod"')[0]


def test_every_page_has_the_running_header_and_synthetic_banner(built: Built) -> None:
    html = (built.out / "report.html").read_text()
    assert "@top-left" in html and 'counter(page) " of " counter(pages)' in html
    assert "SYNTHETIC DATA: not for clinical use" in html


def test_per_landmark_metrics_become_rows_and_a_run_without_them_gives_none() -> None:
    from hepatorisk.reports.bands import landmark_rows

    logged = {
        "test_auroc_w4": 0.70,
        "test_auroc_w4_lo": 0.65,
        "test_auroc_w4_hi": 0.75,
        "test_n_w4": 900.0,
        "test_events_w4": 60.0,
        "auroc_vs_oracle_w4": 0.95,
        "perlm_test_auroc_w8": 0.66,
        "test_auroc": 0.68,
    }
    rows = landmark_rows(logged)
    assert [(r["design"], r["week"]) for r in rows] == [
        ("pooled model", 4),
        ("one model per landmark", 8),
    ]
    assert rows[0]["auroc"] == {"estimate": 0.70, "lo": 0.65, "hi": 0.75}
    assert rows[0]["auroc_vs_oracle"] == 0.95 and rows[1]["auroc_vs_oracle"] is None
    assert landmark_rows({"test_auroc": 0.68}) == []
