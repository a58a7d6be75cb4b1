"""The JSON API's request envelopes around the core's patient record (``AssessRequest``)."""

from __future__ import annotations

from pydantic import Field

from hepatorisk.assessment.fields import StrictModel
from hepatorisk.assessment.request import AssessRequest

__all__ = ["BATCH_LIMIT", "AssessRequest", "BatchRequest"]

BATCH_LIMIT = 1000


class BatchRequest(StrictModel):
    patients: list[AssessRequest] = Field(min_length=1, max_length=BATCH_LIMIT)
    explain: bool = Field(True, description="include the top drivers of each risk")
