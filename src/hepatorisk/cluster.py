"""A Dask client for the scale-out commands: ``local`` (a LocalCluster on this machine) or the
address of a running scheduler (``tcp://host:8786``; Kubernetes, a batch scheduler or a cloud
cluster started by their Dask deployment projects). Only the commands that scale out import it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from hepatorisk.exceptions import ConfigError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["dask_client"]

log = logging.getLogger(__name__)


@contextmanager
def dask_client(
    scheduler: str,
    workers: int | None = None,
    *,
    processes: bool = True,
    memory_limit: str | None = None,
    threads: int = 1,
) -> Iterator[Client]:
    """A client of ``scheduler``, closed (with its LocalCluster) on exit.

    ``local`` starts ``workers`` worker processes (default 2) of ``threads`` threads each (one
    by default, so that memory is accounted per task); ``workers`` is refused for a remote
    scheduler, whose size is its own."""
    from distributed import Client, LocalCluster

    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be a positive integer, got {workers}")
    if scheduler != "local":
        if workers is not None:
            raise ConfigError(
                f"--workers applies to --scheduler local only; {scheduler} has its own workers"
            )
        try:
            client = Client(scheduler, timeout="30s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError) as exc:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        try:
            yield client
        finally:
            client.close()  # type: ignore[no-untyped-call]
        return
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers or 2,
        threads_per_worker=threads,
        processes=processes,
        dashboard_address=":0",  # any free port: another cluster may hold 8787
        memory_limit=memory_limit or "auto",
    )
    client = Client(cluster)  # type: ignore[no-untyped-call]
    log.info("Dask LocalCluster with %d workers", workers or 2)
    try:
        yield client
    finally:
        client.close()  # type: ignore[no-untyped-call]
        cluster.close()
