"""The same cohort from one process, one Dask worker and two: identical tables, identical parts."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client

from hepatorisk.cli import main
from hepatorisk.cohorts.catalog import modelling_frame
from hepatorisk.cohorts.synthetic import generate_cohort, load_cohort, load_generator_config
from hepatorisk.cohorts.synthetic.generate import generate_partitioned
from hepatorisk.cohorts.synthetic.tables import TABLES
from hepatorisk.contracts.partitioned import part_files, sha256_file

PATIENTS, CHUNK, SEED = 500, 200, 11  # three chunks, the last one short


def _parts(folder: Path) -> dict[str, list[dict[str, object]]]:
    listing: dict[str, list[dict[str, object]]] = json.loads((folder / "cohort.json").read_text())[
        "partitions"
    ]
    return listing


def test_one_worker_two_workers_and_one_process_give_the_same_cohort(
    tmp_path: Path, one_worker: Client, two_workers: Client
) -> None:
    config = load_generator_config(weeks=12)
    single = generate_cohort(PATIENTS, seed=SEED, config=config, chunk_size=CHUNK)
    single.write(tmp_path / "single")
    for name, client in (("one", one_worker), ("two", two_workers)):
        generate_partitioned(
            PATIENTS, seed=SEED, config=config, out=tmp_path / name, client=client, chunk_size=CHUNK
        )
    one, two = load_cohort(tmp_path / "one"), load_cohort(tmp_path / "two")
    written = load_cohort(tmp_path / "single")
    for table in TABLES:
        pd.testing.assert_frame_equal(
            getattr(one, table), getattr(written, table), check_exact=True
        )
        pd.testing.assert_frame_equal(
            getattr(two, table), getattr(written, table), check_exact=True
        )
        assert len(part_files(tmp_path / "two" / f"{table}.parquet")) == 3
    # the parts themselves are byte-identical, and the manifest's digests are theirs
    assert _parts(tmp_path / "one") == _parts(tmp_path / "two")
    for table, parts in _parts(tmp_path / "two").items():
        for part in parts:
            assert (
                sha256_file(tmp_path / "two" / f"{table}.parquet" / str(part["file"]))
                == part["sha256"]
            )
    assert sum(int(str(p["rows"])) for p in _parts(tmp_path / "two")["patients"]) == PATIENTS
    # training ingestion and the report's test set read through the catalog: same frame
    pd.testing.assert_frame_equal(
        modelling_frame(tmp_path / "two")[1], modelling_frame(tmp_path / "single")[1]
    )


def test_cli_writes_the_same_parts_without_a_cluster(tmp_path: Path) -> None:
    args = ["cohort", "generate", "--patients", "300", "--seed", "3", "--weeks", "12"]
    assert (
        main([*args, "--chunk-size", "150", "--scheduler", "none", "--out", str(tmp_path / "p")])
        == 0
    )
    assert main([*args, "--chunk-size", "150", "--out", str(tmp_path / "s")]) == 0
    for table in TABLES:
        pd.testing.assert_frame_equal(
            load_cohort(tmp_path / "p").__dict__[table], load_cohort(tmp_path / "s").__dict__[table]
        )


def test_workers_without_a_local_cluster_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cohort", "generate", "--workers", "2", "--out", str(tmp_path / "x")])
    assert code == 2 and "--workers needs --scheduler local" in capsys.readouterr().err
