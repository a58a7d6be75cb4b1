"""Admin: pick up newly promoted champions without downtime (separate admin token)."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hepatorisk.service.responses import ReloadOut
from hepatorisk.web.deps import AdminDep, StateDep
from hepatorisk.web.state import ServiceState

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/reload", response_model=ReloadOut, status_code=202)
def reload(state: StateDep, admin: AdminDep, wait: bool = False) -> JSONResponse:
    """Load the configured sources again in the background; swap only if both load. Requests in
    flight finish on the old pair. ``wait=true`` answers when the reload has finished."""
    thread = state.store.reload_in_background()
    if wait and thread is not None:
        thread.join()
    return JSONResponse(reload_status(state).model_dump(mode="json"), status_code=202)


@router.get("/reload", response_model=ReloadOut)
def reload_state(state: StateDep, admin: AdminDep) -> ReloadOut:
    return reload_status(state)


def reload_status(state: ServiceState) -> ReloadOut:
    s, models = state.store.status, state.store.current
    return ReloadOut(
        state=s.state,
        started_at=s.started_at,
        finished_at=s.finished_at,
        error=s.error,
        models=models.versions() if models else {},
    )
