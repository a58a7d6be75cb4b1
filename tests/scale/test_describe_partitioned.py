"""cohort describe of a partitioned cohort: Table 1 from the parts equals Table 1 of the whole."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hepatorisk.cohorts.describe import describe_cohort
from hepatorisk.cohorts.synthetic import generate_cohort, load_cohort, load_generator_config
from hepatorisk.cohorts.synthetic.describe import cohort_targets
from hepatorisk.cohorts.synthetic.effect import dose_effects
from hepatorisk.cohorts.synthetic.generate import generate_partitioned


# a 150-patient part leaves some target subgroups empty: their means are NaN, as they should be
@pytest.mark.filterwarnings("ignore:Mean of empty slice", "ignore:invalid value encountered")
def test_table_one_from_parts_equals_table_one_of_the_whole(tmp_path: Path) -> None:
    config = load_generator_config(weeks=12)
    generate_partitioned(400, seed=5, config=config, out=tmp_path / "parts", chunk_size=150)
    generate_cohort(400, seed=5, config=config, chunk_size=150).write(tmp_path / "whole")
    parts, whole = describe_cohort(tmp_path / "parts"), describe_cohort(tmp_path / "whole")
    pd.testing.assert_frame_equal(parts.sections[0].table, whole.sections[0].table)
    assert "400 patients" in parts.title and "first part, 150 patients" in parts.title
    # the targets of a partitioned cohort are those of its first part, a cohort of one chunk
    first = load_cohort(tmp_path / "parts", part=0)
    assert len(first.patients) == 150
    expected = cohort_targets(first, dose_effects(first))
    assert [t.name for t in parts.targets] == [t.name for t in expected]
    np.testing.assert_array_equal(
        [t.observed for t in parts.targets], [t.observed for t in expected]
    )
