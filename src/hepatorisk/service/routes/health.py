"""Liveness and readiness probes (no authentication: orchestrators call them).

``/livez`` answers 200 while the process runs, whatever its dependencies do (a restart would not
bring the audit database back). ``/readyz`` answers 503 with the reason while the models are not
loaded or the audit store does not answer its probe (a trivial statement, at most
``audit_probe_timeout`` seconds, its answer reused for ``audit_probe_max_age``): a load balancer
then sends no assessment here; both answer 200 again, without a restart, once the store is back.
"""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hepatorisk.service.responses import ReadyOut
from hepatorisk.web.availability import audit_problem
from hepatorisk.web.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/livez")
async def livez() -> dict[str, str]:
    """The process is up (models may still be loading, the audit store may be down)."""
    return {"status": "alive"}


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
async def readyz(state: StateDep) -> JSONResponse:
    """200 once both models are loaded and the audit store answers; 503 with the reason else."""
    models, status = state.store.current, state.store.status
    if models is None:
        label, error = status.state, status.error
    elif state.audit is None:
        label, error = "audit_not_open", "the audit log is not open yet"
    else:
        problem = await audit_problem(state.audit)
        label, error = ("audit_unavailable", problem) if problem else ("ready", status.error)
    ready = label == "ready"
    out = ReadyOut(
        ready=ready,
        state=label,
        error=error,
        models=models.versions() if models else {},
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if ready else 503)
