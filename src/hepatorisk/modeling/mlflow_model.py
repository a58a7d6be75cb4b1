"""MLflow "model from code" entry point: MLflow stores this file instead of a pickle."""

import mlflow.models

from hepatorisk.modeling.pyfunc import HepatoriskPyfunc

mlflow.models.set_model(HepatoriskPyfunc())
