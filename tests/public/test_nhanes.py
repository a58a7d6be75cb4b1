"""``hepatorisk cohort build nhanes``: population, ALT labels, NHANES code mapping, contracts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from hepatorisk.cli import main
from hepatorisk.cohorts.nhanes import FEATURE_SETS, NhanesCohort, derive_cohort, load_raw
from hepatorisk.cohorts.nhanes.derive import weighted_share
from hepatorisk.cohorts.nhanes.schema import TABLES
from hepatorisk.contracts import read_table
from hepatorisk.data import sha256_file


@pytest.fixture(scope="module")
def xpt(nhanes_source: Path) -> dict[str, pd.DataFrame]:
    """The raw files read independently of the package (plain pandas, as published)."""
    names = ("DEMO_J", "BIOPRO_J", "ALQ_J", "DUQ_J", "HEQ_J")
    return {n: pd.read_sas(nhanes_source / f"{n}.XPT", format="xport") for n in names}


@pytest.fixture(scope="module")
def cohort(nhanes_source: Path) -> NhanesCohort:
    return derive_cohort(load_raw(nhanes_source))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("nhanes")
    assert main(["-q", "cohort", "build", "nhanes", "--out", str(out)]) == 0
    return out


def test_population_and_alt_labels_match_an_independent_count(
    cohort: NhanesCohort, xpt: dict[str, pd.DataFrame]
) -> None:
    raw = xpt["DEMO_J"].merge(xpt["BIOPRO_J"], on="SEQN")
    adults = raw[(raw["RIDAGEYR"] >= 18) & raw["LBXSATSI"].notna()]
    uln = adults["RIAGENDR"].map({1.0: 33.0, 2.0: 25.0})  # ACG 2017: men 33, women 25 U/L
    assert len(cohort.outcomes) == len(adults)
    assert int(cohort.outcomes["alt_elevated"].sum()) == int((adults["LBXSATSI"] > uln).sum())
    assert int(cohort.outcomes["alt_gt40"].sum()) == int((adults["LBXSATSI"] > 40).sum())
    # the counts verified independently in data/public/nhanes_2017_2018/PROVENANCE.md
    assert (len(adults), int((adults["LBXSATSI"] > uln).sum())) == (5153, 893)


def test_refused_and_dont_know_codes_become_missing(
    cohort: NhanesCohort, xpt: dict[str, pd.DataFrame]
) -> None:
    p = cohort.participants.set_index("seqn")
    demo = xpt["DEMO_J"].set_index("SEQN").loc[p.index]
    refused = demo["DMDEDUC2"].isin([7.0, 9.0])
    assert refused.sum() > 0
    assert p.loc[refused, "education"].isna().all()
    heq = xpt["HEQ_J"].set_index("SEQN").reindex(p.index)
    dont_know = heq["HEQ030"] == 9.0
    assert dont_know.sum() > 0
    assert p.loc[dont_know, "hepatitis_c_told"].isna().all()


def test_sas_zero_and_skip_patterns(cohort: NhanesCohort, xpt: dict[str, pd.DataFrame]) -> None:
    p = cohort.participants.set_index("seqn")
    alq = xpt["ALQ_J"].set_index("SEQN").reindex(p.index)
    never_last_year = alq["ALQ121"].abs() < 1e-70  # SAS transport zero, read as ~5.4e-79
    never_drank = alq["ALQ111"] == 2.0
    assert never_last_year.sum() > 0 and never_drank.sum() > 0
    assert (p.loc[never_last_year | never_drank, "alcohol_days_per_year"] == 0).all()
    duq = xpt["DUQ_J"].set_index("SEQN").reindex(p.index)
    no_hard_drugs = duq["DUQ240"] == 2.0  # DUQ290 (heroin) is skipped for them
    assert duq.loc[no_hard_drugs, "DUQ290"].isna().all()
    assert (~p.loc[no_hard_drugs, "drug_ever_heroin"].astype(bool)).all()
    heroin = duq["DUQ290"] == 1.0
    assert p.loc[heroin, "drug_ever_heroin"].astype(bool).all()


def test_build_writes_tables_manifest_and_named_feature_sets(built: Path) -> None:
    manifest = json.loads((built / "cohort.json").read_text())
    assert manifest["kind"] == "nhanes"
    assert manifest["outcomes"] == ["alt_elevated", "alt_gt40"]
    assert manifest["survey_design"] == {
        "weight": "wtmec2yr",
        "psu": "sdmvpsu",
        "strata": "sdmvstra",
    }
    participants = read_table(built / "participants.parquet", TABLES["participants"])
    outcomes = read_table(built / "outcomes.parquet", TABLES["outcomes"])
    assert participants["seqn"].equals(outcomes["seqn"])
    assert manifest["feature_sets"] == FEATURE_SETS
    base = set(FEATURE_SETS["risk_factors"])
    panel = set(FEATURE_SETS["risk_factors_plus_liver_panel"]) - base
    assert panel == {"ast_u_l", "ggt_u_l", "alp_u_l", "bilirubin_mg_dl", "albumin_g_dl"}
    for columns in FEATURE_SETS.values():
        assert set(columns) <= set(participants.columns)
        assert not set(columns) & set(outcomes.columns)  # ALT and its labels are never features
        assert not set(columns) & {"wtmec2yr", "sdmvpsu", "sdmvstra"}


def test_build_is_deterministic(built: Path, tmp_path: Path) -> None:
    assert main(["-q", "cohort", "build", "nhanes", "--out", str(tmp_path)]) == 0
    for name in ("participants.parquet", "outcomes.parquet", "cohort.json"):
        assert sha256_file(tmp_path / name) == sha256_file(built / name)


def test_truncated_file_is_refused_by_name(
    nhanes_source: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "src"
    shutil.copytree(nhanes_source, source)
    (source / "BIOPRO_J.XPT").write_bytes((source / "BIOPRO_J.XPT").read_bytes()[:4096])
    code = main(
        ["cohort", "build", "nhanes", "--out", str(tmp_path / "o"), "--source", str(source)]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "BIOPRO_J.XPT: truncated file" in err
    assert "5bcd5722c1892883b96a9d7fed0befadabacae313f800fadc0133cd5dd00c4c6" in err


def test_weighted_share_weights_each_participant() -> None:
    flag = pd.Series([True, False, False])
    assert weighted_share(flag, pd.Series([1.0, 1.0, 1.0])) == pytest.approx(1 / 3)
    assert weighted_share(flag, pd.Series([2.0, 1.0, 1.0])) == pytest.approx(0.5)
