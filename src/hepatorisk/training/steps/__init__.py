"""Pipeline steps as plain typed functions: ingest, split, train, calibrate, evaluate, register.

Each step takes the previous steps' results and returns a new value (none changes its inputs),
so each can be run and tested alone on small in-memory inputs. The runner wires them and times
them. Only ``register`` writes anywhere, through the ``RunRecorder`` it is given (the tracking
adapter's run logger in a pipeline run); nothing here imports MLflow.
"""

from hepatorisk.training.steps.evaluation import Evaluation, evaluate, internal_external
from hepatorisk.training.steps.fitting import Trained, calibrate, feature_columns, train
from hepatorisk.training.steps.ingestion import Dataset, ingest
from hepatorisk.training.steps.registration import (
    Registered,
    RunRecorder,
    register,
    run_tags,
    signature_frame,
)
from hepatorisk.training.steps.splitting import Split, split

__all__ = [
    "Dataset",
    "Evaluation",
    "Registered",
    "RunRecorder",
    "Split",
    "Trained",
    "calibrate",
    "evaluate",
    "feature_columns",
    "ingest",
    "internal_external",
    "register",
    "run_tags",
    "signature_frame",
    "split",
    "train",
]
