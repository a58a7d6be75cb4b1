"""The scores every evaluation compares, keyed by identifier, each with its one display label.

The identifier is what the code uses everywhere: the prediction column (``p_model``), the metric
prefix and the report's row keys (``model``, ``baseline``, ``oracle``). The label is for people
and appears only where text is shown (figure legends, the report's curve names).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BASELINE", "MODEL", "ORACLE", "SCORES", "Score", "column_labels", "key_labels"]


@dataclass(frozen=True)
class Score:
    key: str  # "model", "baseline", "oracle"
    label: str  # the display label

    @property
    def column(self) -> str:
        """The column of the evaluation's predictions table holding this score."""
        return f"p_{self.key}"


MODEL = Score("model", "LightGBM (calibrated)")
BASELINE = Score("baseline", "spline logistic baseline")
ORACLE = Score("oracle", "oracle (true risk)")  # the synthetic cohort's true risk
SCORES = (MODEL, BASELINE, ORACLE)


def column_labels(scores: tuple[Score, ...] = SCORES) -> dict[str, str]:
    """Prediction column -> display label (``p_model`` -> ``LightGBM (calibrated)``)."""
    return {s.column: s.label for s in scores}


def key_labels(scores: tuple[Score, ...] = SCORES) -> dict[str, str]:
    """Score key -> display label (``model`` -> ``LightGBM (calibrated)``)."""
    return {s.key: s.label for s in scores}
