"""Published targets: the cohort reproduces every figure within the tolerance it states."""

from __future__ import annotations

import pytest

from hepatorisk.cohorts.synthetic import SyntheticCohort
from hepatorisk.cohorts.synthetic.describe import cohort_targets


def test_every_published_target_is_met(cohort: SyntheticCohort) -> None:
    targets = cohort_targets(cohort)
    assert len(targets) >= 20
    missed = [
        f"{t.name}: {t.observed:.3f} not in [{t.low}, {t.high}]" for t in targets if not t.within
    ]
    assert not missed, "\n".join(missed)


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [
        ("oracle AUROC, liver_event_12w", 0.70, 0.95),
        ("oracle AUROC, relapse_12w", 0.65, 0.85),
    ],
)
def test_oracle_discrimination_is_clinically_plausible(
    cohort: SyntheticCohort, name: str, low: float, high: float
) -> None:
    target = next(t for t in cohort_targets(cohort) if t.name == name)
    assert low <= target.observed <= high
