"""Step ``split``: patients into training, calibration and test rows, before anything is fitted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from hepatorisk.training.spec import PipelineSpec
from hepatorisk.training.steps.ingestion import Dataset

__all__ = ["Split", "split"]


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    calibration: np.ndarray
    test: np.ndarray


def split(dataset: Dataset, spec: PipelineSpec) -> Split:
    """Patient-level stratified split: test rows are set aside before anything is fitted."""
    rows = np.arange(len(dataset.y))
    s = spec.split
    rest, test = train_test_split(
        rows, test_size=s.test_size, stratify=dataset.y, random_state=s.seed
    )
    train_rows, calibration = train_test_split(
        rest,
        test_size=s.calibration_size / (1 - s.test_size),
        stratify=dataset.y[rest],
        random_state=s.seed + 1,
    )
    return Split(np.sort(train_rows), np.sort(calibration), np.sort(test))
