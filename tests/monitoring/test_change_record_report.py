"""The review-board report shows the change record of the version's promotion."""

from __future__ import annotations

from importlib import resources

from hepatorisk.reports.render import _environment

RECORD = {
    "model": "hepatorisk-relapse",
    "from_version": "1",
    "to_version": "2",
    "promoted_by": "dr-test",
    "promoted_at": "2026-12-01T13:00:00+00:00",
    "changed": {
        "kind": "recalibration",
        "data": {"before": "abc", "after": "abc", "local_data": "0123456789abcdef"},
        "code": {"before": "c0ffee", "after": "same booster as the parent", "dirty_after": None},
        "parameters": {},
        "recalibration": {
            "method": "intercept",
            "intercept": 0.287,
            "slope": 1.0,
            "rule": "slope 0.90 [0.70, 1.10] includes 1: intercept only",
        },
    },
    "acceptance": {"criteria_and_results": ["pass: local gate on held-out local rows: Brier"]},
    "results": {"test_auroc": 0.667},
    "band_movement": {
        "patients": 1500,
        "moved": 412,
        "moves": {"intermediate -> high": 412},
        "reference": "held-out local rows of the recalibration",
    },
}


def test_the_report_shows_the_change_record() -> None:
    template = _environment().get_template("change_record.html.j2")
    html = template.render(d={"meta": {"change_record": RECORD}})
    shown = (
        "version 1 &rarr; 2",
        "dr-test",
        "recalibration",
        "0123456789abcdef",
        "pass: local gate",
        "412 of 1,500 patients",
        "intermediate -&gt; high: 412",
    )
    for text in shown:
        assert text in html, text
    none = template.render(d={"meta": {"change_record": None}})
    assert "No change record" in none
    main = resources.files("hepatorisk.reports").joinpath("templates/report.html.j2").read_text()
    assert '{% include "change_record.html.j2" %}' in main
