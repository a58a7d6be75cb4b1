"""Public datasets: the registry of pinned files, verification, and fetching on request."""

from hepatorisk.data.fetch import (
    FetchResult,
    fetch_dataset,
    sha256_file,
    verify_dataset,
    verify_file,
)
from hepatorisk.data.registry import DATASETS, DataFile, Dataset, default_source, get_dataset

__all__ = [
    "DATASETS",
    "DataFile",
    "Dataset",
    "FetchResult",
    "default_source",
    "fetch_dataset",
    "get_dataset",
    "sha256_file",
    "verify_dataset",
    "verify_file",
]
