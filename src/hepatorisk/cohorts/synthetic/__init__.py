"""The synthetic kratom-therapy cohort: a clinically grounded mechanism with known true risks.

The names below are loaded on first use, so that code needing only the tables' contracts
(``hepatorisk.cohorts.synthetic.tables``, as the service does) does not import the generator and
its compiled kernels.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "GeneratorConfig": "params",
    "load_generator_config": "params",
    "SyntheticCohort": "generate",
    "generate_cohort": "generate",
    "load_cohort": "generate",
    "true_risks": "generate",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOME[name]}")
    return getattr(module, name)
