"""Liveness and readiness probes (no authentication: orchestrators call them)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hepatorisk.service.responses import ReadyOut
from hepatorisk.web.deps import StateDep

router = APIRouter(tags=["health"])


@router.get("/livez")
def livez() -> dict[str, str]:
    """The process is up (models may still be loading)."""
    return {"status": "alive"}


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def readyz(state: StateDep) -> JSONResponse:
    """200 once both models and the audit log are ready; 503 (with the reason) before."""
    models, status = state.store.current, state.store.status
    ready = models is not None and state.audit is not None
    out = ReadyOut(
        ready=ready,
        state="ready" if ready else status.state,
        error=status.error,
        models=models.versions() if models else {},
    )
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if ready else 503)
