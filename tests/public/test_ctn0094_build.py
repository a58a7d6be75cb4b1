"""``hepatorisk cohort build ctn0094``: contract-checked tables, manifest, determinism, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hepatorisk.cli import main
from hepatorisk.cohorts.ctn0094.schema import TABLES
from hepatorisk.contracts import read_table
from hepatorisk.data import DATASETS, sha256_file


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ctn0094")
    assert main(["-q", "cohort", "build", "ctn0094", "--out", str(out)]) == 0
    return out


def test_build_writes_contract_checked_tables_and_manifest(built: Path) -> None:
    manifest = json.loads((built / "cohort.json").read_text())
    assert manifest["kind"] == "ctn0094"
    assert manifest["tables"] == list(TABLES)
    assert set(manifest["feature_sets"]) == {
        "entry",
        "entry_plus_week3",
        "luo4_trial_arm",
        "luo4_trial_arm_plus_week3",
    }
    assert manifest["outcomes"] == ["relapse_ctn0094", "relapse_12w"]
    tables = {name: read_table(built / f"{name}.parquet", TABLES[name]) for name in TABLES}
    patients = tables["patients"]
    assert len(patients) == 2492
    for columns in manifest["feature_sets"].values():
        assert set(columns) <= set(patients.columns)
    entry, plus = manifest["feature_sets"]["entry"], manifest["feature_sets"]["entry_plus_week3"]
    assert set(plus) - set(entry) == {
        "uds_week1",
        "uds_week2",
        "uds_week3",
        "uds_weeks1_3_not_negative",
    }
    assert not any(c.startswith("uds_week") for c in entry)
    luo, luo_plus = (
        manifest["feature_sets"]["luo4_trial_arm"],
        manifest["feature_sets"]["luo4_trial_arm_plus_week3"],
    )
    assert luo == [
        "trial",
        "arm",
        "tlfb_heroin_days",
        "uds_opioid_baseline",
        "uds_cocaine_baseline",
        "rbs_iv_heroin_days",
    ]
    assert set(luo) <= set(entry)  # so the entry leakage test covers it
    assert luo_plus == [*luo, *plus[len(entry) :]]  # the weeks 1-3 screens
    assert "uds_baseline_day" not in plus  # the guard column is not a model input
    assert set(manifest["outcomes"]) <= set(tables["outcomes"].columns)
    assert not set(manifest["outcomes"]) & set(patients.columns)


def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    assert main(["-q", "cohort", "build", "ctn0094", "--out", str(tmp_path)]) == 0
    for name in [*TABLES, "cohort"]:
        suffix = ".json" if name == "cohort" else ".parquet"
        assert sha256_file(tmp_path / f"{name}{suffix}") == sha256_file(built / f"{name}{suffix}")


def test_build_refuses_an_altered_table(
    ctn_source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "src"
    shutil.copytree(ctn_source, source)
    data = bytearray((source / "randomization.rda").read_bytes())
    data[-10] ^= 0x01
    (source / "randomization.rda").write_bytes(bytes(data))
    code = main(
        ["cohort", "build", "ctn0094", "--out", str(tmp_path / "out"), "--source", str(source)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "randomization.rda: altered file" in err
    assert DATASETS["ctn0094"].file("randomization.rda").sha256 in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_build_without_vendored_data_says_how_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "hepatorisk.paths.public_data_candidates", lambda: [tmp_path / "data" / "public"]
    )
    code = main(["cohort", "build", "ctn0094", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "no vendored ctn0094 data found" in err
    assert "hepatorisk data fetch ctn0094" in err
