"""``model: {engine: dask}``: the booster trained by ``lightgbm.dask`` on a Dask cluster.

The training rows are cut into one partition per worker and LightGBM trains data-parallel
(``tree_learner: data``): each worker builds histograms of its rows and the workers merge them
at every split. The result is an ordinary LightGBM booster, wrapped as the same
``CalibratedBooster`` the single-node engine makes, so calibration, evaluation, SHAP,
registration and serving do not change. It is not the single-node model: bin boundaries are
found from each worker's rows and bagging draws per worker, so the trees differ slightly
(``tests/scale/test_dask_training.py`` measures by how much).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from hepatorisk.cluster import dask_client
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.training.spec import DaskSpec

__all__ = ["fit_on_dask"]


def fit_on_dask(
    booster: CalibratedBooster, X: pd.DataFrame, y: np.ndarray, where: DaskSpec
) -> CalibratedBooster:
    """``booster`` (its parameters) trained on (X, y) by ``lightgbm.dask``; not yet calibrated."""
    import dask.dataframe as dd
    from lightgbm.dask import DaskLGBMClassifier

    X = X.reset_index(drop=True)
    labels = pd.Series(np.asarray(y, dtype=int), index=X.index, name="y")
    params = booster.lightgbm_params()
    params.pop("objective")
    # lightgbm.dask runs as many threads as each worker has: a LocalCluster gets num_threads
    # per worker; a remote cluster's workers have their own (dask worker --nthreads)
    threads = params.pop("num_threads")
    workers = None if where.scheduler != "local" else where.workers
    with dask_client(where.scheduler, workers, threads=threads) as client:
        parts = max(len(client.scheduler_info()["workers"]), 1)
        X_dask = dd.from_pandas(X, npartitions=parts, sort=True)  # type: ignore[no-untyped-call]
        y_dask = dd.from_pandas(labels, npartitions=parts, sort=True)  # type: ignore[no-untyped-call]
        model = DaskLGBMClassifier(
            client=client,
            objective="binary",
            n_estimators=booster.n_estimators,
            **params,
        )
        with warnings.catch_warnings():
            # lightgbm.dask always hands its sklearn n_jobs on, then drops it for the workers'
            # thread count (above) and warns; nothing is lost
            warnings.filterwarnings("ignore", "Parameter n_jobs will be ignored")
            model.fit(X_dask, y_dask)
        local = model.to_local()
    booster.classes_ = np.array([0, 1])
    booster.feature_names_in_ = np.asarray(X.columns, dtype=object)
    booster.booster_ = local.booster_
    booster.calibration_ = (0.0, 1.0)
    return booster
