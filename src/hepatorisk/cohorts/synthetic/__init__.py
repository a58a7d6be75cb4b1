"""The synthetic kratom-therapy cohort: a clinically grounded mechanism with known true risks."""

from hepatorisk.cohorts.synthetic.generate import (
    SyntheticCohort,
    generate_cohort,
    load_cohort,
    true_risks,
)
from hepatorisk.cohorts.synthetic.params import GeneratorConfig, load_generator_config

__all__ = [
    "GeneratorConfig",
    "SyntheticCohort",
    "generate_cohort",
    "load_cohort",
    "load_generator_config",
    "true_risks",
]
