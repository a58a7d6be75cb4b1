"""GET /v1/models: which models answer, from which run, with which test metrics."""

from fastapi import APIRouter

from hepatorisk.service.deps import ModelsDep
from hepatorisk.service.responses import ModelsResponse
from hepatorisk.service.workflow import model_infos

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", response_model=ModelsResponse)
def list_models(models: ModelsDep) -> ModelsResponse:
    return ModelsResponse(models=model_infos(models))
