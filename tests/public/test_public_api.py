"""The public names of the data and public-cohort packages, and their loaders' own checks."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import pytest

from hepatorisk.cohorts import ctn0094, nhanes
from hepatorisk.data import DATASETS
from hepatorisk.exceptions import DataSourceError

MODULES = (
    "hepatorisk.data",
    "hepatorisk.data.fetch",
    "hepatorisk.data.registry",
    "hepatorisk.cohorts.ctn0094",
    "hepatorisk.cohorts.ctn0094.weekly",
    "hepatorisk.cohorts.ctn0094.outcomes",
    "hepatorisk.cohorts.ctn0094.features",
    "hepatorisk.cohorts.nhanes",
    "hepatorisk.cohorts.nhanes.derive",
)


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_existing_public_names(name: str) -> None:
    module = importlib.import_module(name)
    for attr in module.__all__:
        assert hasattr(module, attr), f"{name}.__all__ names missing {attr}"
        assert not attr.startswith("_")


@pytest.mark.parametrize(
    ("loader", "folder", "victim"),
    [
        (ctn0094.load_raw, "ctn0094", "tlfb.rda"),
        (nhanes.load_raw, "nhanes_2017_2018", "DUQ_J.XPT"),
    ],
)
def test_loaders_verify_each_file_they_read(
    loader: object, folder: str, victim: str, vendored: Path, tmp_path: Path
) -> None:
    source = tmp_path / folder
    shutil.copytree(vendored / folder, source)
    path = source / victim
    path.write_bytes(path.read_bytes() + b"\0")
    name = "ctn0094" if folder == "ctn0094" else "nhanes"
    with pytest.raises(DataSourceError, match=rf"{victim}: altered file") as info:
        loader(source)  # type: ignore[operator]
    assert DATASETS[name].file(victim).sha256 in str(info.value)
