"""HTTP plumbing shared by the JSON API and the FHIR/CDS Hooks adapters: the one assessment
dependency, authentication, error bodies and their OpenAPI document, middleware, metrics."""
