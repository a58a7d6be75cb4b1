"""``hepatorisk cohort describe`` on the real public cohorts: Table 1 and the published targets."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hepatorisk.cli import main
from hepatorisk.cohorts.describe import describe_cohort
from hepatorisk.cohorts.nhanes.derive import weighted_share


@pytest.fixture(scope="module")
def ctn_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ctn0094")
    assert main(["-q", "cohort", "build", "ctn0094", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def nhanes_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nhanes")
    assert main(["-q", "cohort", "build", "nhanes", "--out", str(out)]) == 0
    return out


def test_ctn0094_table_one_by_arm_reports_relapse_rates(ctn_dir: Path) -> None:
    description = describe_cohort(ctn_dir)
    by_arm = description.sections[0].table
    outcomes = pd.read_parquet(ctn_dir / "outcomes.parquet")
    patients = pd.read_parquet(ctn_dir / "patients.parquet")
    frame = patients.merge(outcomes, on="who")
    methadone = frame[frame["arm"] == "Methadone"]
    row = by_arm.loc["Relapse (CTN-0094, whole follow-up), n (%)", "Methadone"]
    share = 100 * methadone["relapse_ctn0094"].mean()
    assert row == f"{int(methadone['relapse_ctn0094'].sum()):,} ({share:.1f}%)"
    assert list(by_arm.columns[1:]) == sorted(frame["arm"].astype(str).unique())
    assert by_arm.loc["N", "Overall"] == f"{len(frame):,}"
    assert any(s.title == "Table 1 by trial" for s in description.sections)
    assert description.targets[0].within  # the 2,492 randomized patients


def test_nhanes_prevalence_is_shown_weighted_and_unweighted(nhanes_dir: Path) -> None:
    description = describe_cohort(nhanes_dir)
    prevalence = description.sections[0].table
    frame = pd.read_parquet(nhanes_dir / "participants.parquet").merge(
        pd.read_parquet(nhanes_dir / "outcomes.parquet"), on="seqn"
    )
    row = prevalence.iloc[0]
    assert row["unweighted %"] == f"{100 * frame['alt_elevated'].mean():.1f}"
    assert (
        row["weighted %"] == f"{100 * weighted_share(frame['alt_elevated'], frame['wtmec2yr']):.1f}"
    )
    assert row["weighted %"] != row["unweighted %"]
    titles = [s.title for s in description.sections]
    assert "Table 1, survey-weighted" in titles and "Table 1, unweighted" in titles


def test_describe_cli_prints_and_writes_json(
    nhanes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "describe.json"
    assert main(["-q", "cohort", "describe", str(nhanes_dir), "--json", str(out)]) == 0
    assert "NHANES 2017-2018" in capsys.readouterr().out
    assert json.loads(out.read_text())["title"].startswith("NHANES 2017-2018")
