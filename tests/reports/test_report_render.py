"""The HTML loads in headless Chromium with no request but itself; the PDF has real pages;
``--from`` rebuilds identically; a missing browser or missing artifacts give clear errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import mlflow
import numpy as np
import pytest
from conftest import Built
from reports_support import dump_dom, serve_folder

from hepatorisk import tracking
from hepatorisk.cli import main
from hepatorisk.exceptions import DataSourceError
from hepatorisk.reports import BROWSER_ENV, SECTIONS, build_report


def test_html_loads_offline_with_no_other_request(built: Built, browser: str) -> None:
    with serve_folder(built.out) as (base, requests):
        dom = dump_dom(browser, f"{base}/report.html")
    assert requests == ["/report.html"]
    for _, heading in SECTIONS:
        assert heading in dom, heading
    assert dom.count("<img") >= 13


def test_pdf_pages_are_present_and_not_blank(built: Built, tmp_path: Path) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(built.out / "report.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert 8 <= len(pages) <= 30, len(pages)
    for page in pages:
        pixels = matplotlib.image.imread(page)[..., :3].mean(axis=2)
        assert pixels.std() > 0.03, page.name  # a blank page is uniform white


def test_every_pdf_page_has_its_number_header_and_synthetic_banner(built: Built) -> None:
    text = subprocess.run(
        ["pdftotext", "-layout", str(built.out / "report.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) >= 8
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page, number
        assert "SYNTHETIC DATA" in page, number
        assert "hepatorisk-liver version" in page, number


def test_shap_pages_carry_the_associational_caveat(built: Built) -> None:
    text = subprocess.run(
        ["pdftotext", str(built.out / "report.pdf"), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    markers = ("TreeSHAP of the served model", "-risk example (patient")
    shap_pages = [p for p in text.split("\f") if any(m in " ".join(p.split()) for m in markers)]
    assert shap_pages
    for page in shap_pages:
        flat = " ".join(page.split())
        assert "describe the model, not the effect of changing a value" in flat, flat[:200]


def test_rebuild_from_json_gives_identical_html(built: Built, tmp_path: Path) -> None:
    assert (
        main(["-q", "report", "--from", str(built.out / "report.json"), "--out", str(tmp_path)])
        == 0
    )
    assert (tmp_path / "report.html").read_bytes() == (built.out / "report.html").read_bytes()
    assert (tmp_path / "report.pdf").stat().st_size > 10_000


def test_missing_chromium_is_a_clear_error_after_html_and_json(
    built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv(BROWSER_ENV, str(tmp_path / "no-such-chromium"))
    code = main(["-q", "report", "--from", str(built.out / "report.json"), "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "no headless Chromium" in err and BROWSER_ENV in err and "Traceback" not in err
    assert (tmp_path / "report.html").is_file() and (tmp_path / "report.json").is_file()
    assert not (tmp_path / "report.pdf").exists()


def test_a_run_without_evaluation_artifacts_is_a_clear_error(built: Built, tmp_path: Path) -> None:
    tracking.configure(built.tracking_uri)
    uri = mlflow.MlflowClient().get_run(built.run_id).info.artifact_uri
    subgroups = Path(uri.removeprefix("file://")) / "evaluation" / "subgroups.csv"
    moved = tmp_path / "subgroups.csv"
    shutil.move(subgroups, moved)
    try:
        with pytest.raises(DataSourceError, match=r"lacks the evaluation artifacts .*subgroups"):
            build_report(built.model_uri, tmp_path / "out", log_to_run=False)
    finally:
        shutil.move(moved, subgroups)


def test_report_command_needs_a_model_or_a_json(capsys: pytest.CaptureFixture) -> None:
    assert main(["report"]) == 2
    assert "MODEL_URI and --out" in capsys.readouterr().err


def test_blank_detector_would_catch_a_white_page() -> None:
    assert np.ones((40, 30)).std() <= 0.03
