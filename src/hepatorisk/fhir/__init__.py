"""The FHIR R4 / CDS Hooks adapter: Bundles and hook requests in, RiskAssessments and cards out.

A translation layer over ``hepatorisk.assessment``: the mapping produces the core's patient
record; models, rules and the audit trail are the core's; authentication, the one assessment
dependency and the error plumbing are ``hepatorisk.web``'s.
"""

from hepatorisk.fhir.inbound import MappedBundle, map_bundle
from hepatorisk.fhir.outbound import assessment_bundle

__all__ = ["MappedBundle", "assessment_bundle", "map_bundle"]
