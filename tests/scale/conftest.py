"""Fixtures: small Dask clusters (shared by the module's tests: starting one costs seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import Client

from hepatorisk.cluster import dask_client


@pytest.fixture(scope="session")
def two_workers() -> Iterator[Client]:
    """Two worker processes: what crosses to them is pickled, as on a real cluster."""
    with dask_client("local", 2, memory_limit="1GiB") as client:
        yield client


@pytest.fixture(scope="session")
def one_worker() -> Iterator[Client]:
    """One in-process worker (threads): the cheap cluster."""
    with dask_client("local", 1, processes=False) as client:
        yield client
