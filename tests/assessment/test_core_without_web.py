"""The assessment core stands alone: a batch job or a notebook assesses and audits patients
without FastAPI, FHIR or a server, and gets the same answers the API gives."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from service_support import patient

from hepatorisk.assessment import (
    AssessmentContext,
    AssessRequest,
    AuditLog,
    assess,
    assess_and_audit,
    load_model_pair,
)
from hepatorisk.clinical.monitoring import load_policy


def test_importing_the_core_loads_no_web_framework_and_no_fhir():
    code = (
        "import sys, hepatorisk.assessment; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette') "
        "or m.startswith(('hepatorisk.fhir', 'hepatorisk.web', 'hepatorisk.service', "
        "'hepatorisk.app'))); print(bad); sys.exit(1 if bad else 0)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr[-500:]


def test_readme_snippet_assesses_a_patient(model_dirs: dict[str, Path]):
    models = load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    [result] = assess(models, [AssessRequest.model_validate(patient()).to_input()], load_policy())
    assert [r.outcome for r in result.risks] == ["liver", "relapse"]
    assert all(0 < r.probability < 1 and r.drivers for r in result.risks)
    assert result.flags.ctcae and result.monitoring.summary


def test_assess_and_audit_commits_one_row_per_patient(model_dirs, tmp_path):
    models = load_model_pair(str(model_dirs["liver"]), str(model_dirs["relapse"]))
    audit = AuditLog(f"sqlite:///{tmp_path / 'audit.db'}", salt="s")
    seen: list[str] = []
    ctx = AssessmentContext(
        request_id="batch-1",
        caller="nightly-job",
        models=models,
        audit=audit,
        policy=load_policy(),
        observe=lambda risks: seen.extend(r.band for r in risks),
    )
    requests = [AssessRequest.model_validate(patient(patient_ref=f"P{i}")) for i in range(12)]
    try:
        results = asyncio.run(assess_and_audit(ctx, requests, endpoint="notebook"))
        rows = audit.rows("batch-1")
    finally:
        audit.close()
    assert len(results) == len(rows) == 12  # more than INLINE_PATIENTS: computed off the loop
    assert {r["caller"] for r in rows} == {"nightly-job"}
    assert rows[0]["outputs"]["liver"]["probability"] == results[0].risks[0].probability
    assert "P0" not in str(rows) and rows[0]["patient_ref_hmac"] != rows[1]["patient_ref_hmac"]
    assert len(seen) == 24
