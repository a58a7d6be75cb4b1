"""The vendored public files, their checksum manifest, and ``hepatorisk data fetch``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from hepatorisk.cli import main
from hepatorisk.data import DATASETS, fetch_dataset, sha256_file, verify_dataset
from hepatorisk.data.registry import checksum_manifest
from hepatorisk.exceptions import ConfigError, DataSourceError

VENDORED = Path(__file__).resolve().parents[2] / "data" / "public"


def test_checksums_json_is_the_registry_written_out() -> None:
    committed = json.loads((VENDORED / "checksums.json").read_text())
    assert committed == checksum_manifest()


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_vendored_files_match_their_checksums(name: str) -> None:
    folder = VENDORED / DATASETS[name].folder
    verify_dataset(folder, name)
    # nothing vendored is left out of the manifest (PROVENANCE.md is ours, not published)
    on_disk = {p.name for p in folder.iterdir()} - {"PROVENANCE.md"}
    assert on_disk == {f.name for f in DATASETS[name].files}


def test_origins_are_pinned_public_urls() -> None:
    for item in DATASETS["ctn0094"].files:
        assert item.urls[0].startswith(
            "https://raw.githubusercontent.com/CTN-0094/public.ctn0094data/"
            "ea8a040205c0ac7a826585c272fa1ecf53420a50/"
        )
    for item in DATASETS["nhanes"].files:
        assert item.urls[0] == (
            f"https://wwwn.cdc.gov/Nchs/Data/Nhanes/Public/2017/DataFiles/{item.name}"
        )


@pytest.mark.parametrize("name", ["ctn0094", "nhanes"])
def test_fetch_from_a_local_folder_reproduces_the_vendored_files(name: str, tmp_path: Path) -> None:
    source = _copy_of(name, tmp_path)
    dest = tmp_path / "dest"
    code = main(["-q", "data", "fetch", name, "--from", str(source), "--dest", str(dest)])
    assert code == 0
    for item in DATASETS[name].files:
        assert sha256_file(dest / item.name) == DATASETS[name].file(item.name).sha256


def _copy_of(name: str, tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    shutil.copytree(VENDORED / DATASETS[name].folder, folder)
    return folder


def test_fetch_refuses_a_truncated_source_and_names_the_checksum(tmp_path: Path) -> None:
    source = _copy_of("ctn0094", tmp_path)
    target = source / "uds.rda"
    target.write_bytes(target.read_bytes()[:1000])
    expected = DATASETS["ctn0094"].file("uds.rda").sha256
    with pytest.raises(DataSourceError, match="truncated") as info:
        fetch_dataset("ctn0094", tmp_path / "dest", source=source)
    assert "uds.rda" in str(info.value)
    assert expected in str(info.value)
    assert not (tmp_path / "dest" / "uds.rda").exists()


def test_cli_reports_an_altered_file_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _copy_of("nhanes", tmp_path)
    data = bytearray((source / "HEQ_J.XPT").read_bytes())
    data[5000] ^= 0xFF
    (source / "HEQ_J.XPT").write_bytes(bytes(data))
    code = main(["data", "verify", "nhanes", "--dir", str(source)])
    err = capsys.readouterr().err
    assert code == 2
    assert "HEQ_J.XPT: altered file" in err
    assert DATASETS["nhanes"].file("HEQ_J.XPT").sha256 in err
    assert "Traceback" not in err


def test_fetch_reports_a_missing_file(tmp_path: Path) -> None:
    source = _copy_of("ctn0094", tmp_path)
    (source / "visit.rda").unlink()
    with pytest.raises(DataSourceError, match=r"visit\.rda: file missing"):
        fetch_dataset("ctn0094", tmp_path / "dest", source=source)


def test_download_tries_each_origin_and_keeps_only_matching_bytes(tmp_path: Path) -> None:
    good = {
        url: (VENDORED / "nhanes_2017_2018" / f.name).read_bytes()
        for f in DATASETS["nhanes"].files
        for url in f.urls[1:]
    }
    requested: list[str] = []

    def opener(url: str) -> bytes:  # CDC "re-released" every file; the mirrors hold the pins
        requested.append(url)
        if url in good:
            return good[url]
        return b"not the pinned bytes"

    results = fetch_dataset("nhanes", tmp_path, opener=opener)
    assert {r.action for r in results} == {"downloaded"}
    assert all(r.origin in good for r in results)
    assert len(requested) == 2 * len(DATASETS["nhanes"].files)
    verify_dataset(tmp_path, "nhanes")
    # a second fetch keeps what is valid and asks for nothing
    requested.clear()
    assert {r.action for r in fetch_dataset("nhanes", tmp_path, opener=opener)} == {"kept"}
    assert requested == []


def test_download_failure_lists_every_origin_tried(tmp_path: Path) -> None:
    def offline(url: str) -> bytes:
        raise OSError("network unreachable")

    with pytest.raises(DataSourceError, match="no public origin") as info:
        fetch_dataset("ctn0094", tmp_path, opener=offline)
    assert "network unreachable" in str(info.value)
    assert DATASETS["ctn0094"].files[0].urls[0] in str(info.value)


def test_unknown_dataset_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected one of: ctn0094, nhanes"):
        fetch_dataset("nhanes_2015", tmp_path)
