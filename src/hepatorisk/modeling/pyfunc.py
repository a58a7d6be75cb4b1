"""The MLflow face of a ``ModelBundle``: a pyfunc whose signature is the patient record.

``mlflow models serve``, ``spark_udf``, batch scoring and the service all run this one class,
so the feature code, the booster and the calibration are the same everywhere.
``predict(..., params={"explain": True})`` adds exact SHAP contributions (log-odds scale).

A logged model carries its code: the ``hepatorisk`` package is copied into the model
(``code_paths``: ``code/hepatorisk``, put on ``sys.path`` when MLflow loads it) and its
``requirements.txt`` pins every runtime dependency at the version it was trained with, never
``hepatorisk`` itself (which no package index holds). So ``mlflow models serve`` with a fresh
virtualenv, ``mlflow models build-docker`` and ``spark_udf`` rebuild it without this checkout.
"""

import importlib.metadata
from pathlib import Path

import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext
from packaging.requirements import Requirement

import hepatorisk
from hepatorisk.modeling.bundle import ModelBundle

__all__ = ["HepatoriskPyfunc", "package_dir", "pip_requirements"]


def package_dir() -> Path:
    """The ``hepatorisk`` package folder, logged with each model as its code."""
    return Path(hepatorisk.__file__).resolve().parent


def pip_requirements() -> list[str]:
    """The model's requirements: each runtime dependency of hepatorisk (its metadata, without
    the dev extra) pinned at the installed version, e.g. ``lightgbm==4.6.0``."""
    pins = []
    for text in importlib.metadata.requires("hepatorisk") or []:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra's requirement (dev tools)
        extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
        pins.append(f"{req.name}{extras}=={importlib.metadata.version(req.name)}")
    return pins


class HepatoriskPyfunc(PythonModel):
    """Calibrated probability (and optionally its explanation) for each patient record."""

    # the logged signature (the patient record) is this model's contract, not type hints
    _skip_type_hint_validation = True

    def load_context(self, context: PythonModelContext) -> None:
        self.bundle = ModelBundle.load(Path(context.artifacts["bundle"]))

    # no type hints here on purpose: MLflow would derive a second, looser signature from them;
    # the signature logged with the model (the patient record) is the contract
    def predict(self, context, model_input, params=None):
        records = pd.DataFrame(model_input)
        # an optional input left out (the signature allows it) is unknown, as a null would be
        absent = [c for c in self.bundle.input_columns if c not in records.columns]
        if absent:
            records = records.assign(**dict.fromkeys(absent, float("nan")))
        if params and params.get("explain"):
            explanation = self.bundle.explain(records)
            out = explanation.contributions.add_prefix("shap_")
            out.insert(0, "base_log_odds", explanation.base_value)
            out.insert(0, "probability", explanation.probability)
            return out.reset_index(drop=True)
        return pd.DataFrame({"probability": self.bundle.predict_proba(records)})
