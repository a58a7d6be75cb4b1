"""The logged models' MLflow signature: the patient record, each column required only if the
service's request requires it.

``REQUIRED_RECORD_COLUMNS`` is the one list of record columns a caller must give (the API's
``AssessRequest`` requires exactly these; ``tests/integration/test_stack.py`` holds the two
equal). Every other input may be missing (JSON null or absent): the model averages an unknown
input over its plausible values (``modeling/unknowns.py``), so the signature must not promise
that INR, platelets or any other optional value is always there.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["REQUIRED_RECORD_COLUMNS", "record_signature"]

REQUIRED_RECORD_COLUMNS = frozenset(
    {
        "age",
        "sex",
        "moud_arm",
        "kratom_product",
        "kratom_dose_g_day",
        "alt_u_l",
        "alt_uln_u_l",
        "alp_u_l",
        "alp_uln_u_l",
        "bilirubin_mg_dl",
        "bilirubin_uln_mg_dl",
    }
)


def record_signature(example: pd.DataFrame, output: pd.DataFrame, params: dict[str, Any]) -> Any:
    """MLflow's signature inferred from ``example`` (types), every input column marked
    required only if it is in ``REQUIRED_RECORD_COLUMNS``."""
    from mlflow.models import ModelSignature, infer_signature
    from mlflow.types.schema import ColSpec, Schema

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
