"""Step ``split``: patients into training, calibration and test rows, before anything is fitted."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
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
    """Patient-level stratified split: test rows are set aside before anything is fitted.

    Landmark datasets (several rows per patient) are split by patient, stratified by whether
    the patient has an event at any landmark: no patient is in two parts."""
    if dataset.landmark is not None:
        return _split_by_patient(dataset, spec)
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


def _split_by_patient(dataset: Dataset, spec: PipelineSpec) -> Split:
    ids = dataset.frame[dataset.id_column].astype(str).to_numpy()
    per = pd.Series(dataset.y, index=ids).groupby(level=0).max()
    patients, any_event = per.index.to_numpy(), per.to_numpy()
    s = spec.split
    rest, test = train_test_split(
        np.arange(len(patients)), test_size=s.test_size, stratify=any_event, random_state=s.seed
    )
    fit, calibration = train_test_split(
        rest,
        test_size=s.calibration_size / (1 - s.test_size),
        stratify=any_event[rest],
        random_state=s.seed + 1,
    )

    def rows(part: np.ndarray) -> np.ndarray:
        # a hash lookup: numpy's isin on strings compares every pair (20 s at 20,000 patients)
        return np.flatnonzero(pd.Index(patients[part]).get_indexer(ids) >= 0)

    return Split(rows(fit), rows(calibration), rows(test))
