"""The one MLflow adapter: tracking store, runs, artifacts, registry and aliases.

Embedded default: a SQLite tracking store ``mlflow.db`` and an artifact folder ``mlartifacts/``
in the working directory, no server to run. ``MLFLOW_TRACKING_URI`` points a team at its
tracking server instead.
"""

from __future__ import annotations

import json
import os
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from hepatorisk import __version__
from hepatorisk.exceptions import DataContractError, DataSourceError

__all__ = [
    "RunLogger",
    "alias_version",
    "configure",
    "download_run_artifact",
    "register",
    "run_metrics",
    "set_alias",
]

_root: Path | None = None


def configure(root: Path | None = None) -> str:
    """Set the tracking and registry URI (environment first, else SQLite under ``root``)."""
    import mlflow

    global _root
    _root = (root or Path.cwd()).resolve()
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    uri = os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{_root / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(os.environ.get("MLFLOW_REGISTRY_URI", uri))
    return uri


def _experiment_id(name: str) -> str:
    import mlflow

    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    location = None
    if "MLFLOW_TRACKING_URI" not in os.environ and _root is not None:
        location = (_root / "mlartifacts" / name).as_uri()
    return mlflow.create_experiment(name, artifact_location=location)


class RunLogger:
    """Logs one pipeline run; every MLflow call of a run goes through here."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id

    def params(self, values: dict[str, Any]) -> None:
        import mlflow

        mlflow.log_params({k: str(v)[:6000] for k, v in values.items()})

    def metrics(self, values: dict[str, float]) -> None:
        import mlflow

        clean = {k: float(v) for k, v in values.items() if v == v}  # NaN is not logged
        mlflow.log_metrics(clean)

    def json(self, name: str, value: object) -> None:
        import mlflow

        mlflow.log_text(json.dumps(value, indent=2, default=str), name)

    def frame(self, name: str, frame: pd.DataFrame) -> None:
        import mlflow

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(name).name
            if name.endswith(".parquet"):
                frame.to_parquet(path, index=False)
            else:
                frame.to_csv(path, index=False)
            mlflow.log_artifact(str(path), str(Path(name).parent))

    def file(self, path: Path, folder: str | None = None) -> None:
        import mlflow

        mlflow.log_artifact(str(path), folder)

    def figure(self, name: str, figure: object) -> None:
        import matplotlib.pyplot as plt
        import mlflow

        mlflow.log_figure(figure, name)
        plt.close(figure)  # pyplot keeps every figure alive until closed

    def dataset(
        self, frame: pd.DataFrame, source: Path, name: str, target: str, digest: str
    ) -> None:
        """Dataset lineage: the cohort folder, its content digest, its outcome column."""
        import mlflow.data

        with warnings.catch_warnings():
            # MLflow registers its local-artifact source class twice and warns about the tie
            warnings.filterwarnings("ignore", message="The specified dataset source can be")
            # the cohort's integer columns are never missing (nullable ones are floats)
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            data = mlflow.data.from_pandas(
                frame, source=str(source), name=name, targets=target, digest=digest
            )
            mlflow.log_input(data, context="training")

    def model(self, bundle_dir: Path, example: pd.DataFrame, output: pd.DataFrame) -> str:
        """Log the bundle as a pyfunc (model from code, no pickle) with signature and example."""
        import mlflow.pyfunc
        from mlflow.models import infer_signature

        from hepatorisk.modeling import mlflow_model

        with warnings.catch_warnings():
            # integer columns are deliberate: the record's counts and ages are never missing
            # (nullable ones are declared as doubles by the runner); the signature, not type
            # hints, is this model's contract
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
            signature = infer_signature(example, output, params={"explain": False})
            if signature.inputs is None or signature.inputs.input_names() != list(example.columns):
                # MLflow falls back to a degenerate schema when inference fails; never log that
                raise DataContractError(
                    "MLflow could not infer the patient-record signature; refusing to log a "
                    "model whose signature would not describe its inputs"
                )
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=mlflow_model.__file__,
                artifacts={"bundle": str(bundle_dir)},
                signature=signature,
                input_example=example,
                pip_requirements=[f"hepatorisk=={__version__}"],
            )
        return info.model_uri


@contextmanager
def start_run(experiment: str, run_name: str, tags: dict[str, str]) -> Iterator[RunLogger]:
    import mlflow

    with mlflow.start_run(
        experiment_id=_experiment_id(experiment), run_name=run_name, tags=tags
    ) as run:
        yield RunLogger(run.info.run_id)


def register(model_uri: str, name: str, tags: dict[str, str]) -> str:
    """Register a new version of ``name`` and point the ``challenger`` alias at it."""
    import mlflow

    version = mlflow.register_model(model_uri, name, tags=tags).version
    set_alias(name, "challenger", str(version))
    return str(version)


def set_alias(name: str, alias: str, version: str) -> None:
    import mlflow

    mlflow.MlflowClient().set_registered_model_alias(name, alias, version)


def alias_version(name: str, alias: str) -> Any | None:
    """The model version an alias points at, or None (also when the model does not exist)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        return mlflow.MlflowClient().get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def run_metrics(run_id: str) -> dict[str, float]:
    import mlflow

    return dict(mlflow.MlflowClient().get_run(run_id).data.metrics)


def download_run_artifact(run_id: str, path: str, destination: Path) -> Path:
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        local = mlflow.artifacts.download_artifacts(
            run_id=run_id, artifact_path=path, dst_path=str(destination)
        )
    except (MlflowException, OSError) as exc:
        raise DataSourceError(f"run {run_id}: no artifact {path!r} ({exc})") from None
    return Path(local)
