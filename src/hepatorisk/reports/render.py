"""Render ``ReportData`` to one self-contained HTML file: inline CSS, base64 PNG figures.

Rendering reads only the report data (never the model or the run), so a rebuild from
``report.json`` gives byte-identical HTML.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hepatorisk.figures import bands as fb
from hepatorisk.figures import explanation as fsh
from hepatorisk.figures import performance as fp
from hepatorisk.figures import safety as fs
from hepatorisk.figures.style import encode_png, styled
from hepatorisk.modeling.scores import BASELINE, MODEL, SCORES, Score, key_labels
from hepatorisk.monitoring.local_evaluation import PARENT
from hepatorisk.reports.data import ReportData

__all__ = ["SECTIONS", "figures", "render_html"]

# (anchor, heading) in reading order; the liver section only for liver models
SECTIONS = (
    ("model-card", "Model card"),
    ("table-one", "Table 1: development and test data"),
    ("performance", "Performance on the held-out test set"),
    ("bands", "Performance at the service's risk bands"),
    ("curves", "ROC, precision-recall, calibration and decision curves"),
    ("shap", "SHAP explanations"),
    ("subgroups", "Subgroup performance and calibration"),
    ("fairness", "Fairness: contrasts between groups"),
    ("liver-safety", "Liver safety: eDISH and injury pattern"),
    ("versions", "Versions and provenance"),
    ("glossary", "Glossary"),
    ("tripod", "TRIPOD+AI checklist"),
)


def _draw(func: Callable[..., Any], *args: Any) -> dict[str, Any]:
    """A figure encoded at its drawn size (the page shows it 1:1, so its fonts print at their
    set sizes), with its caption; shap's pyplot figures are closed after encoding."""
    with styled():
        fig, caption = func(*args)
        try:
            width = float(fig.get_size_inches()[0])
            return {"png": encode_png(fig), "caption": caption, "width": round(width, 2)}
        finally:
            plt.close(fig)


def figures(data: ReportData) -> dict[str, Any]:
    """Every figure of the report, encoded, with its caption."""
    out: dict[str, Any] = {
        "roc": _draw(fp.roc_figure, data.curves, *_roc_facts(data.performance)),
        "pr": _draw(fp.pr_figure, data.curves, data.performance),
        "calibration": _draw(fp.calibration_figure, data.curves),
        "decision": _draw(fp.decision_figure, data.curves, key_labels(_compared(data))),
        "shap_bar": _draw(fsh.bar_figure, data.shap),
        "beeswarm": _draw(fsh.beeswarm_figure, data.shap),
        "dependence": _draw(fsh.dependence_figure, data.shap),
        "waterfalls": [_draw(fsh.waterfall_figure, e, data.shap) for e in data.shap["examples"]],
        "subgroups": _draw(fs.subgroup_figure, data.subgroups),
        "histogram": _draw(fb.risk_histogram_figure, data.bands, data.meta["outcome_label"]),
    }
    if data.liver:
        out["edish"] = _draw(fs.edish_figure, data.liver)
        out["patterns"] = _draw(fs.pattern_figure, data.liver)
    return out


def _compared(data: ReportData) -> tuple[Score, Score]:
    """The model and what it is compared with: the baseline, or a recalibration's parent."""
    return (MODEL, PARENT) if PARENT.key in data.curves["decision"] else (MODEL, BASELINE)


def _roc_facts(performance: dict[str, Any]) -> tuple[dict[str, float | None], int, int]:
    """Each score's test AUROC (by display label), the test patients and events."""
    row = next(r for r in performance["rows"] if r["metric"] == "auroc")
    auroc = {s.label: (row.get(s.key) or {}).get("estimate") for s in (*SCORES, PARENT)}
    return auroc, performance["n"], performance["events"]


def _num(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}"


def _ci(interval: dict[str, Any] | None, digits: int = 3) -> str:
    if not interval or interval.get("estimate") is None:
        return "—"
    text = _num(interval["estimate"], digits)
    if interval.get("lo") is not None and interval.get("hi") is not None:
        text += f" ({_num(interval['lo'], digits)} to {_num(interval['hi'], digits)})"
    return text


def _pct(value: Any, digits: int = 1) -> str:
    return "n/a" if value is None else f"{100 * value:.{digits}f}%"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hepatorisk.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters |= {"num": _num, "ci": _ci, "pct": _pct}
    return env


class _Counter:
    """Figure numbers in order of appearance."""

    def __init__(self) -> None:
        self.value = 0

    def next(self) -> int:
        self.value += 1
        return self.value


#: the performance heading of a recalibrated version (the template shows the same words)
LOCAL_PERFORMANCE = "Performance on the local held-out rows"
SHORT_CAVEAT = "SHAP values describe the model, not the effect of changing a value."


def render_html(data: ReportData) -> str:
    sections = [s for s in SECTIONS if s[0] != "liver-safety" or data.liver]
    if data.meta.get("local_evaluation"):  # a recalibration: evaluated on local rows
        sections = [(a, LOCAL_PERFORMANCE if a == "performance" else h) for a, h in sections]
    numbered = {anchor: i + 1 for i, (anchor, _) in enumerate(sections)}
    template = _environment().get_template("report.html.j2")
    return template.render(
        d=data,
        fig=figures(data),
        sections=sections,
        numbered=numbered,
        fn=_Counter(),
        short_caveat=SHORT_CAVEAT,
        local_performance=LOCAL_PERFORMANCE,
    )
