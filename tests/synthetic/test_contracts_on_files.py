"""Corrupted or hand-edited cohort files are refused with the table, column and rows named."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from hepatorisk.cli import main
from hepatorisk.cohorts.synthetic import load_cohort
from hepatorisk.exceptions import DataContractError


@pytest.fixture()
def copy_of(cohort_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "cohort"
    shutil.copytree(cohort_dir, target)
    return target


def _edit(directory: Path, table: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    path = directory / f"{table}.parquet"
    edit(pd.read_parquet(path)).to_parquet(path, index=False)


def test_out_of_range_value_names_table_column_and_row(copy_of: Path) -> None:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame.loc[17, "age"] = 150
        return frame

    _edit(copy_of, "patients", edit)
    with pytest.raises(DataContractError) as err:
        load_cohort(copy_of)
    message = str(err.value)
    assert "patients.parquet" in message
    assert "'age'" in message
    assert "rows 17: 150" in message
    assert "[18, 90]" in message


def test_unknown_category_is_refused_with_its_rows(copy_of: Path) -> None:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame["uds_opioid"] = frame["uds_opioid"].astype(str)
        frame.loc[[3, 9], "uds_opioid"] = "inconclusive"
        return frame

    _edit(copy_of, "visits", edit)
    expected = r"'uds_opioid': 2 value\(s\) not one of .*rows 3, 9"
    with pytest.raises(DataContractError, match=expected):
        load_cohort(copy_of)


def test_missing_column_is_refused(copy_of: Path) -> None:
    _edit(copy_of, "outcomes", lambda f: f.drop(columns=["p_liver_true"]))
    expected = r"outcomes.parquet does not match.*\n.*missing column\(s\): p_liver_true"
    with pytest.raises(DataContractError, match=expected):
        load_cohort(copy_of)


def test_duplicate_key_is_refused(copy_of: Path) -> None:
    path = copy_of / "latent.parquet"
    frame = pd.read_parquet(path)
    pd.concat([frame, frame.head(2)]).to_parquet(path, index=False)
    with pytest.raises(DataContractError, match=r"key \(patient_id\) is not unique"):
        load_cohort(copy_of)


def test_truncated_file_gets_a_clear_cli_error(
    copy_of: Path, capsys: pytest.CaptureFixture
) -> None:
    path = copy_of / "visits.parquet"
    path.write_bytes(path.read_bytes()[:1000])
    assert main(["cohort", "describe", str(copy_of)]) == 2
    err = capsys.readouterr().err
    assert "visits.parquet: not a readable Parquet file" in err
    assert "Traceback" not in err


def test_describe_refuses_a_folder_without_a_cohort(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert main(["cohort", "describe", str(tmp_path)]) == 2
    assert "cohort.json: not found" in capsys.readouterr().err
