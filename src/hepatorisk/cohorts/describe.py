"""``hepatorisk cohort describe``: Table 1 and calibration targets for any cohort folder.

Each cohort kind names (``cohorts.kinds``) a function that turns its folder into a ``Description``;
this module only dispatches on the folder's manifest and renders the result as text or JSON.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from hepatorisk.cohorts.kinds import kind_info
from hepatorisk.cohorts.manifest import read_manifest

__all__ = ["Description", "Section", "Target", "describe_cohort", "targets_frame"]


@dataclass(frozen=True)
class Target:
    """A published (or stated) figure, the observed value, and the tolerance it must meet."""

    name: str
    published: str
    source: str
    observed: float
    low: float
    high: float

    @property
    def within(self) -> bool:
        return bool(self.low <= self.observed <= self.high)


@dataclass(frozen=True)
class Section:
    title: str
    table: pd.DataFrame
    note: str = ""


@dataclass
class Description:
    title: str
    sections: list[Section] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)

    def render(self) -> str:
        parts = [self.title, "=" * len(self.title)]
        for section in self.sections:
            parts += ["", section.title, "-" * len(section.title), section.table.to_string()]
            if section.note:
                parts.append(section.note)
        if self.targets:
            title = "Published targets beside the observed values"
            parts += ["", title, "-" * len(title), targets_frame(self.targets).to_string()]
            missed = [t.name for t in self.targets if not t.within]
            parts.append(
                "All targets within tolerance."
                if not missed
                else f"Outside tolerance: {', '.join(missed)}"
            )
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "sections": [
                {"title": s.title, "table": s.table.to_dict(orient="index"), "note": s.note}
                for s in self.sections
            ],
            "targets": [{**t.__dict__, "within": t.within} for t in self.targets],
        }


def targets_frame(targets: list[Target]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "published": [t.published for t in targets],
            "observed": [_fmt(t.observed) for t in targets],
            "tolerance": [f"[{_fmt(t.low)}, {_fmt(t.high)}]" for t in targets],
            "ok": ["yes" if t.within else "NO" for t in targets],
            "source": [t.source for t in targets],
        },
        index=[t.name for t in targets],
    )


def describe_cohort(directory: Path) -> Description:
    """Describe the cohort in ``directory`` according to its manifest's kind."""
    manifest = read_manifest(directory)  # refuses a kind that is not in cohorts.kinds
    module, function = kind_info(manifest.kind).describer.split(":")
    describer: Callable[[Path], Description] = getattr(importlib.import_module(module), function)
    return describer(directory)


def _fmt(x: float) -> str:
    if x != x:  # NaN
        return "n/a"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"
