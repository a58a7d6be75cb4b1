"""The committed sample in data/synthetic/sample is valid and is exactly what its seed makes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from hepatorisk.cohorts.manifest import read_manifest
from hepatorisk.cohorts.synthetic import GeneratorConfig, generate_cohort, load_cohort

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "synthetic" / "sample"


def test_sample_loads_through_its_contracts_and_regenerates_identically(
    config: GeneratorConfig,
) -> None:
    sample = load_cohort(SAMPLE)
    manifest = read_manifest(SAMPLE)
    assert len(sample.patients) == manifest.extra["patients"] == 2000
    assert sample.config == config, "the sample was made with another configuration: make sample"
    again = generate_cohort(2000, seed=sample.seed, config=config)
    for name in ("patients", "outcomes"):
        written = getattr(sample, name)
        fresh = getattr(again, name)
        # the sample went through Parquet and its contract; compare on the same footing
        from hepatorisk.cohorts.synthetic.tables import TABLES

        pd.testing.assert_frame_equal(written, TABLES[name].validate(fresh), rtol=1e-9)
