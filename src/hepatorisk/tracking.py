"""The one MLflow adapter: tracking store, runs, artifacts, registry, aliases and model loading.

Every MLflow call of hepatorisk goes through this module (a test holds every other module to
it), except the pyfunc entry point MLflow itself loads (``modeling/pyfunc.py``,
``modeling/mlflow_model.py``).

Embedded default: a SQLite tracking store ``mlflow.db`` and an artifact folder ``mlartifacts/``
in the working directory, no server to run. ``MLFLOW_TRACKING_URI`` (or an explicit URI) points a
team at its tracking server instead.

Models load from wherever they live: ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION`` /
``runs:/...`` (MLflow URIs), a folder written by ``hepatorisk export`` (an MLflow model folder), or
a bare bundle folder (``bundle.json`` + ``booster.txt``). Every failure is a ``DataSourceError``
naming the source.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from hepatorisk.exceptions import DataContractError, DataSourceError
from hepatorisk.modeling.bundle import ModelBundle

__all__ = [
    "REGISTRATION_FILE",
    "RunLogger",
    "RunRecord",
    "VersionedModel",
    "alias_version",
    "configure",
    "download_model",
    "download_run_artifact",
    "list_run_artifacts",
    "load_versioned_model",
    "log_run_files",
    "register",
    "run_metrics",
    "run_record",
    "set_alias",
    "start_run",
]

REGISTRATION_FILE = "registration.json"

# folder of new experiments' artifacts when the embedded SQLite store is in use, else None
_artifact_root: Path | None = None
# MLflow exports every URI it is given (MLFLOW_TRACKING_URI, MLFLOW_REGISTRY_URI) for its
# subprocesses; these are the ones configure() chose itself, so that a later call does not
# mistake them for the user's choice
_exported: dict[str, str] = {}


# ---------------------------------------------------------------------------- configuration
def configure(uri: str | None = None, root: Path | None = None) -> str:
    """Set the tracking and registry URI; the one place that does. Returns the tracking URI.

    ``uri`` if given, else ``MLFLOW_TRACKING_URI``, else a SQLite ``mlflow.db`` under ``root``
    (the working directory by default), with new experiments' artifacts in ``mlartifacts/``.
    ``MLFLOW_REGISTRY_URI`` overrides the registry unless ``uri`` is given.
    """
    import mlflow

    global _artifact_root
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    tracking_uri = uri or _users("MLFLOW_TRACKING_URI")
    if tracking_uri:
        _artifact_root = None
    else:
        _artifact_root = (root or Path.cwd()).resolve() / "mlartifacts"
        tracking_uri = f"sqlite:///{_artifact_root.parent / 'mlflow.db'}"
    registry_uri = uri or _users("MLFLOW_REGISTRY_URI") or tracking_uri
    for variable, value in (
        ("MLFLOW_TRACKING_URI", tracking_uri),
        ("MLFLOW_REGISTRY_URI", registry_uri),
    ):
        if value != _users(variable):
            _exported[variable] = value
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri)
    return tracking_uri


def _users(variable: str) -> str | None:
    """The variable's value unless configure() put it there itself (through MLflow)."""
    value = os.environ.get(variable)
    return None if not value or value == _exported.get(variable) else value


def _experiment_id(name: str) -> str:
    import mlflow

    existing = mlflow.get_experiment_by_name(name)
    if existing is not None:
        return str(existing.experiment_id)
    location = (_artifact_root / name).as_uri() if _artifact_root is not None else None
    return str(mlflow.create_experiment(name, artifact_location=location))


# ---------------------------------------------------------------------------- writing a run
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

    def image(self, name: str, png: bytes) -> None:
        """A PNG image (a figure already drawn and encoded) at ``name``."""
        import mlflow

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / Path(name).name
            path.write_bytes(png)
            mlflow.log_artifact(str(path), str(Path(name).parent))

    def dataset(
        self, frame: pd.DataFrame, source: Path, name: str, target: str, digest: str
    ) -> None:
        """Dataset lineage: the cohort folder, its content digest, its outcome column."""
        import mlflow
        from mlflow.data.pandas_dataset import from_pandas

        with warnings.catch_warnings():
            # MLflow registers its local-artifact source class twice and warns about the tie
            warnings.filterwarnings("ignore", message="The specified dataset source can be")
            # the cohort's integer columns are never missing (nullable ones are floats)
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            data = from_pandas(frame, source=str(source), name=name, targets=target, digest=digest)
            mlflow.log_input(data, context="training")

    def model(self, bundle_dir: Path, example: pd.DataFrame, output: pd.DataFrame) -> str:
        """Log the bundle as a pyfunc (model from code, no pickle) with signature and example."""
        import mlflow.pyfunc

        from hepatorisk.modeling import mlflow_model, pyfunc

        with warnings.catch_warnings():
            # integer columns are deliberate: the record's counts and ages are never missing
            # (nullable ones are declared as doubles by the runner); the signature, not type
            # hints, is this model's contract
            warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
            warnings.filterwarnings("ignore", message=".*Add type hints to the `predict` method")
            # optional inputs optional: the service's required fields only (modeling/signature)
            signature = record_signature(example, output, params={"explain": False})
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
                # the model carries its code and pins its dependencies (modeling/pyfunc.py)
                code_paths=[str(pyfunc.package_dir())],
                pip_requirements=pyfunc.pip_requirements(),
            )
        return str(info.model_uri)

    def register(self, model_uri: str, name: str, tags: dict[str, str]) -> str:
        """Register the run's model as a new version of ``name`` (alias ``challenger``)."""
        return register(model_uri, name, tags)


@contextmanager
def start_run(experiment: str, run_name: str, tags: dict[str, str]) -> Iterator[RunLogger]:
    import mlflow

    with mlflow.start_run(
        experiment_id=_experiment_id(experiment), run_name=run_name, tags=tags
    ) as run:
        yield RunLogger(run.info.run_id)


def log_run_files(run_id: str, paths: list[Path], folder: str) -> None:
    """Add files to a finished run, under ``folder``."""
    import mlflow

    client = mlflow.MlflowClient()
    for path in paths:
        client.log_artifact(run_id, str(path), folder)


# ---------------------------------------------------------------------------- registry
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


# ---------------------------------------------------------------------------- reading a run
@dataclass(frozen=True)
class RunRecord:
    """What a finished run logged: its metrics, its parameters and when it started (UTC)."""

    run_id: str
    metrics: dict[str, float]
    params: dict[str, str]
    started: str


def run_record(run_id: str) -> RunRecord:
    import mlflow

    run = mlflow.MlflowClient().get_run(run_id)
    started = datetime.fromtimestamp(run.info.start_time / 1000, UTC)
    return RunRecord(
        run_id,
        dict(run.data.metrics),
        dict(run.data.params),
        started.isoformat(timespec="seconds"),
    )


def run_metrics(run_id: str) -> dict[str, float]:
    return run_record(run_id).metrics


def list_run_artifacts(run_id: str, folder: str) -> set[str]:
    """Paths (relative to the run) of the artifacts directly under ``folder``."""
    import mlflow

    return {a.path for a in mlflow.MlflowClient().list_artifacts(run_id, folder)}


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


def download_model(model_uri: str, destination: Path) -> Path:
    """Copy a logged model's folder (MLmodel, artifacts/bundle, ...) to ``destination``."""
    import mlflow
    from mlflow.exceptions import MlflowException

    try:
        mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(destination))
    except (MlflowException, OSError) as exc:
        raise DataSourceError(f"{model_uri}: cannot export ({exc})") from None
    return destination


# ---------------------------------------------------------------------------- loading a model
@dataclass(frozen=True)
class VersionedModel:
    """A model bundle with its registry identity: name, version and alias, and its run."""

    bundle: ModelBundle
    source: str
    name: str
    version: str | None
    alias: str | None
    run_id: str | None


def load_versioned_model(source: str) -> VersionedModel:
    """The model at ``source`` (an MLflow URI or a folder), with what the registry knows of it."""
    if "://" not in source and ":/" not in source:
        return _load_folder(Path(source))
    try:
        import mlflow
        from mlflow.exceptions import MlflowException
    except ImportError as exc:  # pragma: no cover - mlflow is a dependency
        raise DataSourceError(f"{source}: MLflow is not installed ({exc})") from None
    search_path = list(sys.path)
    try:
        pyfunc = mlflow.pyfunc.load_model(source)
        bundle = pyfunc.unwrap_python_model().bundle
    except (MlflowException, OSError, AttributeError) as exc:
        raise DataSourceError(f"{source}: cannot load the model ({exc})") from None
    finally:
        # MLflow prepends the model's code folder; this process runs its own installed package,
        # so the entry goes (else each reload of a served model would add one)
        sys.path[:] = search_path
    version, alias, run_id = _registry_facts(source)
    name = bundle.metadata.get("registered_model", source)
    return VersionedModel(bundle, source, name, version, alias, run_id or pyfunc.metadata.run_id)


def _registry_facts(source: str) -> tuple[str | None, str | None, str | None]:
    if not source.startswith("models:/"):
        return None, None, None
    import mlflow

    client = mlflow.MlflowClient()
    ref = source.removeprefix("models:/")
    if "@" in ref:
        name, alias = ref.split("@", 1)
        mv = client.get_model_version_by_alias(name, alias)
        return str(mv.version), alias, mv.run_id
    name, _, version = ref.partition("/")
    mv = client.get_model_version(name, version)
    return str(mv.version), None, mv.run_id


def _load_folder(folder: Path) -> VersionedModel:
    if not folder.is_dir():
        raise DataSourceError(f"{folder}: no such model folder (expected an exported model)")
    bundle_dir = folder if (folder / "bundle.json").is_file() else folder / "artifacts" / "bundle"
    if not (bundle_dir / "bundle.json").is_file():
        raise DataSourceError(
            f"{folder}: neither a model bundle (bundle.json) nor an exported MLflow model "
            "(artifacts/bundle/bundle.json)"
        )
    bundle = ModelBundle.load(bundle_dir)
    facts = {}
    if (folder / REGISTRATION_FILE).is_file():
        facts = json.loads((folder / REGISTRATION_FILE).read_text())
    return VersionedModel(
        bundle=bundle,
        source=str(folder),
        name=facts.get("name", bundle.metadata.get("registered_model", folder.name)),
        version=facts.get("version"),
        alias=facts.get("alias"),
        run_id=facts.get("run_id"),
    )


def record_signature(example: pd.DataFrame, output: pd.DataFrame, params: dict[str, Any]) -> Any:
    """MLflow's signature inferred from ``example`` (types), every input column marked
    required only if it is in ``modeling.signature.REQUIRED_RECORD_COLUMNS``."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import ColSpec, Schema

    from hepatorisk.modeling.signature import REQUIRED_RECORD_COLUMNS

    inferred = infer_signature(example, output, params=params)
    if inferred.inputs is None:
        return inferred
    inputs = Schema(
        [
            ColSpec(c.type, c.name, required=c.name in REQUIRED_RECORD_COLUMNS)
            for c in inferred.inputs.inputs
        ]
    )
    return ModelSignature(inputs=inputs, outputs=inferred.outputs, params=inferred.params)
