"""GET /v1/models: which models answer, from which run, with which test metrics."""

from fastapi import APIRouter

from hepatorisk.assessment.model_pair import model_ref
from hepatorisk.service.responses import ModelInfoOut, ModelsResponse
from hepatorisk.web.deps import ModelsDep

router = APIRouter(prefix="/v1", tags=["models"])


@router.get("/models", response_model=ModelsResponse)
def list_models(models: ModelsDep) -> ModelsResponse:
    infos = []
    for outcome, model in models.items():
        meta = model.bundle.metadata
        infos.append(
            ModelInfoOut(
                outcome=outcome,
                model=model_ref(model),
                outcome_column=meta.get("outcome"),
                horizon_weeks=meta.get("horizon_weeks"),
                pipeline=meta.get("pipeline"),
                test_metrics=meta.get("test_metrics"),
                input_columns=model.bundle.input_columns,
                loaded_at=models.loaded_at,
            )
        )
    return ModelsResponse(models=infos)
