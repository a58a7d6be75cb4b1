"""Published targets: the cohort reproduces every figure within the tolerance it states."""

from __future__ import annotations

from hepatorisk.cohorts.synthetic import SyntheticCohort
from hepatorisk.cohorts.synthetic.describe import cohort_targets
from hepatorisk.cohorts.synthetic.effect import dose_effects


def test_every_published_target_is_met(cohort: SyntheticCohort) -> None:
    targets = cohort_targets(cohort, dose_effects(cohort))
    assert len(targets) >= 35
    missed = [
        f"{t.name}: {t.observed:.3f} not in [{t.low}, {t.high}]" for t in targets if not t.within
    ]
    assert not missed, "\n".join(missed)
