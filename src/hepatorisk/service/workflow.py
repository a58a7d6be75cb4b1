"""Glue between the HTTP layer and the library: convert, assess, audit, count, respond.

Route handlers call one function here each. The audit row is committed before the function
returns, hence before the response is sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pydantic import TypeAdapter

from hepatorisk.service.assessment import Assessment, Risk, assess, model_ref, predict
from hepatorisk.service.audit import AuditEntry, AuditLog, canonical_sha256
from hepatorisk.service.models import ServedModels
from hepatorisk.service.records import record_columns
from hepatorisk.service.responses import (
    AssessmentOut,
    ExplainResponse,
    FeatureOut,
    GroupOut,
    ModelExplanationOut,
    ModelInfoOut,
    ModelOut,
    PredictionOut,
    ReloadOut,
)
from hepatorisk.service.schemas import AssessRequest
from hepatorisk.service.state import ServiceState

__all__ = [
    "assess_and_audit",
    "assess_and_audit_async",
    "explain_patient",
    "model_infos",
    "predict_and_audit",
    "reload_status",
    "served_versions",
    "to_contract",
]


# Dataclasses -> plain data in pydantic-core, then validated into the API's models: three
# times faster than validating the dataclasses attribute by attribute (from_attributes).
_ASSESSMENTS = TypeAdapter(list[Assessment])


def served_versions(models: ServedModels) -> dict[str, str]:
    return {
        o: f"{m.loaded.name}:{m.loaded.version or 'unversioned'}"
        + (f"@{m.loaded.alias}" if m.loaded.alias else "")
        for o, m in models.items()
    }


def assess_and_audit(
    state: ServiceState,
    audit: AuditLog,
    models: ServedModels,
    requests: Sequence[AssessRequest],
    *,
    request_id: str,
    caller: str,
    endpoint: str,
    top: int,
    explain: bool = True,
) -> list[Assessment]:
    """Assess, write the audit rows (committed), count predictions by band, return the outputs."""
    results, entries = _assess(state, models, requests, top=top, explain=explain)
    audit.record(request_id, endpoint, caller, served_versions(models), entries)
    return _counted(state, results)


async def assess_and_audit_async(
    state: ServiceState,
    audit: AuditLog,
    models: ServedModels,
    requests: Sequence[AssessRequest],
    *,
    request_id: str,
    caller: str,
    endpoint: str,
    top: int,
    explain: bool = True,
) -> list[Assessment]:
    """``assess_and_audit`` for the event loop: other requests run while the commit is made."""
    results, entries = _assess(state, models, requests, top=top, explain=explain)
    await asyncio.wrap_future(
        audit.submit(request_id, endpoint, caller, served_versions(models), entries)
    )
    return _counted(state, results)


async def predict_and_audit(
    state: ServiceState,
    audit: AuditLog,
    models: ServedModels,
    request: AssessRequest,
    *,
    request_id: str,
    caller: str,
) -> list[PredictionOut]:
    """Both risks only (no explanations, rules or what-ifs), audited like an assessment."""
    [risks] = predict(models, [request.to_input()], state.policy)
    entry = _audit_entry(0, request, _risk_outputs(risks), {})
    await asyncio.wrap_future(
        audit.submit(request_id, "predict", caller, served_versions(models), [entry])
    )
    _count(state, risks)
    return [PredictionOut.model_validate(r) for r in risks]


def _assess(
    state: ServiceState,
    models: ServedModels,
    requests: Sequence[AssessRequest],
    *,
    top: int,
    explain: bool,
) -> tuple[list[Assessment], list[AuditEntry]]:
    results = assess(
        models, [r.to_input() for r in requests], state.policy, top=top, explain=explain
    )
    entries = [
        _audit_entry(i, r, _audit_outputs(a), _audit_flags(a))
        for i, (r, a) in enumerate(zip(requests, results, strict=True))
    ]
    return results, entries


def _audit_entry(
    item: int, request: AssessRequest, outputs: dict[str, Any], flags: dict[str, Any]
) -> AuditEntry:
    """The input only as the hash of its canonical JSON (the patient reference apart)."""
    digest = canonical_sha256(request.model_dump(mode="json", exclude={"patient_ref"}))
    return AuditEntry(item, digest, request.patient_ref, outputs, flags)


def _counted(state: ServiceState, results: list[Assessment]) -> list[Assessment]:
    for a in results:
        _count(state, a.risks)
    return results


def _count(state: ServiceState, risks: Sequence[Risk]) -> None:
    """Count the committed predictions by band."""
    for risk in risks:
        state.metrics.predictions.labels(risk.outcome, risk.band).inc()


def to_contract(results: Sequence[Assessment]) -> list[AssessmentOut]:
    """The assessments as the API's response models (for code that reads them as such)."""
    return [AssessmentOut.model_validate(a) for a in _ASSESSMENTS.dump_python(list(results))]


def explain_patient(
    models: ServedModels, request: AssessRequest, request_id: str
) -> ExplainResponse:
    """Every input's exact contribution for both models, on both scales, and grouped."""
    patient = request.to_input()
    columns = record_columns([patient])
    out = []
    for outcome, model in models.items():
        c = model.contributions(columns)
        values = model.inputs(columns).iloc[0]
        label = model.loaded.bundle.label
        p_inputs = c.on_probability_scale(c.values)[0]
        p_groups = c.on_probability_scale(c.group_values)[0]
        members = model.loaded.bundle.group_members()
        features = [
            FeatureOut(
                feature=name,
                label=label(name),
                value=_value(name, patient.record, values),
                log_odds=float(c.values[0, k]),
                probability=float(p_inputs[k]),
            )
            for k, name in enumerate(model.feature_names)
        ]
        groups = [
            GroupOut(
                variable=g,
                label=label(g),
                members=members[g],
                log_odds=float(c.group_values[0, j]),
                probability=float(p_groups[j]),
            )
            for j, g in enumerate(model.group_names)
        ]
        out.append(
            ModelExplanationOut(
                outcome=outcome,  # type: ignore[arg-type]
                model=ModelOut.model_validate(model_ref(model)),
                base_log_odds=float(c.base_value[0]),
                base_probability=float(1 / (1 + np.exp(-c.base_value[0]))),
                log_odds=float(c.log_odds[0]),
                probability=float(c.probability[0]),
                contributions=features,
                grouped=groups,
            )
        )
    return ExplainResponse(request_id=request_id, explanations=out)


def model_infos(models: ServedModels) -> list[ModelInfoOut]:
    infos = []
    for outcome, model in models.items():
        meta = model.loaded.bundle.metadata
        infos.append(
            ModelInfoOut(
                outcome=outcome,  # type: ignore[arg-type]
                model=ModelOut.model_validate(model_ref(model)),
                outcome_column=meta.get("outcome"),
                horizon_weeks=meta.get("horizon_weeks"),
                pipeline=meta.get("pipeline"),
                test_metrics=meta.get("test_metrics"),
                input_columns=model.loaded.bundle.input_columns,
                loaded_at=models.loaded_at,
            )
        )
    return infos


def _value(name: str, record: dict[str, Any], values: pd.Series) -> Any:
    if name in record:
        v = record[name]
        return float(v) if isinstance(v, bool | int) else v
    v = values[name]
    return None if pd.isna(v) else float(v)


def _audit_outputs(a: Assessment) -> dict[str, Any]:
    return _risk_outputs(a.risks) | {"monitoring": a.monitoring.summary}


def _risk_outputs(risks: Sequence[Risk]) -> dict[str, Any]:
    return {
        r.outcome: {"probability": r.probability, "band": r.band, "model": r.model.version}
        for r in risks
    }


def _audit_flags(a: Assessment) -> dict[str, Any]:
    f = a.flags
    return {
        "ctcae": {g.test: g.grade for g in f.ctcae},
        "r_ratio": f.r_ratio,
        "injury_pattern": f.injury_pattern,
        "hys_law": f.hys_law,
        "stopping_rules": {r.rule: r.status for r in f.stopping_rules},
        "stop_recommended": f.stop_recommended,
    }


def reload_status(state: ServiceState) -> ReloadOut:
    s, models = state.store.status, state.store.current
    return ReloadOut(
        state=s.state,
        started_at=s.started_at,
        finished_at=s.finished_at,
        error=s.error,
        models=served_versions(models) if models else {},
    )
