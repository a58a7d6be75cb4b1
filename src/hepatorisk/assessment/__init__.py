"""The assessment core: a patient record in; both risks, their drivers, guideline flags, a
monitoring schedule and dose what-ifs out; an audit row committed for each.

No web framework and no FHIR here: the JSON API (``hepatorisk.service``) and FHIR/CDS Hooks
(``hepatorisk.fhir``) translate their wire formats to these types and back. A batch job or a
notebook uses it directly::

    from hepatorisk.assessment import AssessRequest, assess, load_model_pair
    from hepatorisk.clinical.monitoring import load_policy

    models = load_model_pair("models/hepatorisk-liver", "models/hepatorisk-relapse")
    [result] = assess(models, [AssessRequest.model_validate(record).to_input()], load_policy())
"""

from hepatorisk.assessment.assess import assess, predict
from hepatorisk.assessment.audit import AuditLog
from hepatorisk.assessment.audited import assess_and_audit, predict_and_audit
from hepatorisk.assessment.context import AssessmentContext
from hepatorisk.assessment.explain import explain
from hepatorisk.assessment.model_pair import ModelPair, load_model_pair
from hepatorisk.assessment.model_store import ModelStore
from hepatorisk.assessment.request import AssessRequest
from hepatorisk.assessment.results import Assessment, Prediction, Risk

__all__ = [
    "AssessRequest",
    "Assessment",
    "AssessmentContext",
    "AuditLog",
    "ModelPair",
    "ModelStore",
    "Prediction",
    "Risk",
    "assess",
    "assess_and_audit",
    "explain",
    "load_model_pair",
    "predict",
    "predict_and_audit",
]
