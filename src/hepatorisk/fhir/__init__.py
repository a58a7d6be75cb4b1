"""EHR integration: FHIR R4 Bundles in, RiskAssessments out, and a CDS Hooks 2.0 service.

Thin layers over ``hepatorisk.service``: the mapping produces the service's ``AssessRequest``;
models, rules, auth and the audit trail are the service's own.
"""

# The service first: its routers import this package's modules, and this package imports the
# service's schemas; importing in this order keeps ``import hepatorisk.fhir`` free of a cycle.
import hepatorisk.service  # noqa: F401  # isort: skip
from hepatorisk.fhir.inbound import MappedBundle, map_bundle
from hepatorisk.fhir.outbound import assessment_bundle

__all__ = ["MappedBundle", "assessment_bundle", "map_bundle"]
