"""predict in memory, streamed in batches (Parquet and CSV) and on a Dask cluster: same numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from distributed import Client
from scale_support import SAMPLE, build_bundle, export, split_into_parts

from hepatorisk.cli import main
from hepatorisk.contracts.partitioned import part_files
from hepatorisk.training.distributed_scoring import score_partitioned
from hepatorisk.training.scoring import score_file


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bundle = build_bundle("liver_event_12w", "hepatorisk-liver")
    return export(bundle, tmp_path_factory.mktemp("model") / "liver", "3")


@pytest.fixture(scope="module")
def records() -> pd.DataFrame:
    return pd.read_parquet(SAMPLE / "patients.parquet")


@pytest.mark.parametrize("explain", [True, False])
def test_streamed_and_cluster_scores_equal_in_memory_scores(
    tmp_path: Path, model_dir: Path, records: pd.DataFrame, two_workers: Client, explain: bool
) -> None:
    source = SAMPLE / "patients.parquet"
    n = score_file(str(model_dir), source, tmp_path / "memory.parquet", explain, batch_rows=None)
    memory = pd.read_parquet(tmp_path / "memory.parquet")
    assert n == len(memory) == len(records)
    if explain:
        shap = memory.filter(like="shap_").sum(axis=1)
        np.testing.assert_allclose(
            1 / (1 + np.exp(-(memory["base_log_odds"] + shap))), memory["probability"], atol=1e-10
        )
    score_file(str(model_dir), source, tmp_path / "stream.parquet", explain, batch_rows=333)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "stream.parquet"), memory)

    parts = split_into_parts(records, tmp_path / "records.parquet", parts=3)
    rows = score_partitioned(
        str(model_dir), parts, tmp_path / "scores.parquet", two_workers, explain, batch_rows=250
    )
    assert rows == len(records) and len(part_files(tmp_path / "scores.parquet")) == 3
    cluster = pd.concat(pd.read_parquet(p) for p in part_files(tmp_path / "scores.parquet"))
    pd.testing.assert_frame_equal(cluster.reset_index(drop=True), memory)
    assert (memory["model"] == "hepatorisk-liver:3").all() and memory["patient_id"].is_unique


def test_csv_streams_to_the_same_numbers(
    tmp_path: Path, model_dir: Path, records: pd.DataFrame
) -> None:
    records.to_csv(tmp_path / "records.csv", index=False)
    args = ["predict", str(model_dir), "--input", str(tmp_path / "records.csv"), "--explain"]
    assert main([*args, "--out", str(tmp_path / "memory.csv"), "--batch-rows", "100000"]) == 0
    assert main([*args, "--out", str(tmp_path / "stream.csv"), "--batch-rows", "170"]) == 0
    memory = pd.read_csv(tmp_path / "memory.csv")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "stream.csv"), memory)
    parquet = tmp_path / "p.parquet"
    score_file(str(model_dir), SAMPLE / "patients.parquet", parquet, explain=True)
    numbers = pd.read_parquet(parquet).drop(columns=["patient_id", "model"])
    np.testing.assert_allclose(memory[numbers.columns].to_numpy(), numbers.to_numpy(), rtol=1e-12)


def test_a_bad_value_in_a_later_batch_names_its_row(
    tmp_path: Path, model_dir: Path, records: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = records.head(500).copy()
    bad["bmi"] = bad["bmi"].astype(object)
    bad.loc[403, "bmi"] = "tall"
    bad.to_csv(tmp_path / "bad.csv", index=False)
    code = main(
        ["predict", str(model_dir), "--input", str(tmp_path / "bad.csv"), "--out",
         str(tmp_path / "x.parquet"), "--batch-rows", "100"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "'bmi'" in err and "rows 403" in err and "row + 2" in err
    assert not (tmp_path / "x.parquet").exists()
