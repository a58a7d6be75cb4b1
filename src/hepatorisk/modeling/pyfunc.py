"""The MLflow face of a ``ModelBundle``: a pyfunc whose signature is the patient record.

``mlflow models serve``, ``spark_udf``, batch scoring and the service all run this one class,
so the feature code, the booster and the calibration are the same everywhere.
``predict(..., params={"explain": True})`` adds exact SHAP contributions (log-odds scale).
"""

from pathlib import Path

import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from hepatorisk.modeling.bundle import ModelBundle

__all__ = ["HepatoriskPyfunc"]


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
        if params and params.get("explain"):
            explanation = self.bundle.explain(records)
            out = explanation.contributions.add_prefix("shap_")
            out.insert(0, "base_log_odds", explanation.base_value)
            out.insert(0, "probability", explanation.probability)
            return out.reset_index(drop=True)
        return pd.DataFrame({"probability": self.bundle.predict_proba(records)})
