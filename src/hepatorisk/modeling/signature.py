"""The logged models' signature: the patient record, each column required only if the service's
request requires it (``tracking.record_signature`` builds MLflow's from this list, in the one
module that imports MLflow).

``REQUIRED_RECORD_COLUMNS`` is the one list of record columns a caller must give (the API's
``AssessRequest`` requires exactly these; ``tests/integration/test_stack.py`` holds the two
equal). Every other input may be missing (JSON null or absent): the model averages an unknown
input over its plausible values (``modeling/unknowns.py``), so the signature must not promise
that INR, platelets or any other optional value is always there.
"""

from __future__ import annotations

__all__ = ["REQUIRED_RECORD_COLUMNS"]

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
