"""``ReportData``: every number of the review-board report, as one JSON document.

The report is rendered only from this document, so ``hepatorisk report --from report.json``
rebuilds the same HTML and PDF without the model, the run or any recomputation.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.exceptions import DataSourceError

__all__ = ["REPORT_FORMAT", "ReportData", "jsonable"]

REPORT_FORMAT = 2  # 2: bands and equity sections (issue 19)


@dataclass
class ReportData:
    """One section per field, each plain JSON (numbers unrounded; the template rounds)."""

    meta: dict[str, Any]
    model_card: dict[str, Any]
    table_one: dict[str, Any]
    performance: dict[str, Any]
    curves: dict[str, Any]
    shap: dict[str, Any]
    subgroups: dict[str, Any]
    liver: dict[str, Any] | None
    tripod: list[dict[str, Any]]
    bands: dict[str, Any]
    equity: dict[str, Any]
    format: int = REPORT_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(jsonable(asdict(self)), indent=1, allow_nan=False, sort_keys=False)

    @classmethod
    def from_json(cls, text: str, source: str = "report.json") -> ReportData:
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise DataSourceError(f"{source}: not a JSON document ({exc})") from None
        if not isinstance(document, dict) or document.get("format") != REPORT_FORMAT:
            found = document.get("format") if isinstance(document, dict) else None
            raise DataSourceError(
                f"{source}: report format {found!r}, this version reads {REPORT_FORMAT}; "
                "rebuild it with `hepatorisk report MODEL_URI --out DIR`"
            )
        names = {f.name for f in fields(cls)}
        missing = sorted(n for n in names if n not in document and n not in ("format", "extra"))
        if missing:
            raise DataSourceError(f"{source}: missing report sections {', '.join(missing)}")
        return cls(**{k: v for k, v in document.items() if k in names})

    @classmethod
    def read(cls, path: Path) -> ReportData:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise DataSourceError(f"{path}: cannot read the report data ({exc})") from None
        return cls.from_json(text, str(path))


def jsonable(value: Any) -> Any:
    """Plain JSON: numpy scalars and arrays become Python values, NaN and inf become null."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if value is pd.NA:
        return None
    return str(value)
