"""Load a served model from wherever it lives: the MLflow registry, a run, or an exported folder.

Accepted sources: ``models:/NAME@ALIAS`` / ``models:/NAME/VERSION`` / ``runs:/...`` (MLflow
URIs), a folder written by ``hepatorisk export`` (an MLflow model folder), or a bare bundle folder
(``bundle.json`` + ``booster.txt``). Every failure is a ``DataSourceError`` naming the source.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.bundle import ModelBundle

__all__ = ["LoadedModel", "load_model"]

REGISTRATION_FILE = "registration.json"


@dataclass(frozen=True)
class LoadedModel:
    """A bundle with where it came from: name, version and alias as the registry knows them."""

    bundle: ModelBundle
    source: str
    name: str
    version: str | None
    alias: str | None
    run_id: str | None


def load_model(source: str) -> LoadedModel:
    if "://" not in source and ":/" not in source:
        return _load_folder(Path(source))
    try:
        import mlflow
        from mlflow.exceptions import MlflowException
    except ImportError as exc:  # pragma: no cover - mlflow is a dependency
        raise DataSourceError(f"{source}: MLflow is not installed ({exc})") from None
    try:
        pyfunc = mlflow.pyfunc.load_model(source)
        bundle = pyfunc.unwrap_python_model().bundle
    except (MlflowException, OSError, AttributeError) as exc:
        raise DataSourceError(f"{source}: cannot load the model ({exc})") from None
    version, alias, run_id = _registry_facts(source)
    name = bundle.metadata.get("registered_model", source)
    return LoadedModel(bundle, source, name, version, alias, run_id or pyfunc.metadata.run_id)


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


def _load_folder(folder: Path) -> LoadedModel:
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
    return LoadedModel(
        bundle=bundle,
        source=str(folder),
        name=facts.get("name", bundle.metadata.get("registered_model", folder.name)),
        version=facts.get("version"),
        alias=facts.get("alias"),
        run_id=facts.get("run_id"),
    )
