"""Shared look of every figure, training run and report alike: greyscale-safe (line styles,
markers, hatching), Agg.

Every figure is drawn in black and greys, so a greyscale print loses nothing; series differ by
line style and marker, bars by hatching. Figures are encoded as PNG with fixed metadata so the
same data always gives the same bytes (``--from`` rebuilds are identical).
"""

from __future__ import annotations

import base64
import io
from contextlib import AbstractContextManager
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

__all__ = [
    "GREYS",
    "HATCHES",
    "LINES",
    "MARKERS",
    "Drawn",
    "encode_png",
    "new_figure",
    "png_bytes",
    "styled",
]

LINES = ("-", "--", ":", "-.")
MARKERS = ("o", "s", "^", "D")
HATCHES = ("", "///", "...", "xxx", "\\\\\\")
GREYS = ("black", "0.35", "0.55", "0.7")
DPI = 150
Drawn = tuple[Figure, str]  # a figure and its caption

_RC: dict[RcKeyType, Any] = {
    "font.size": 8.5,
    "axes.titlesize": 9,
    "axes.labelsize": 8.5,
    "legend.fontsize": 7.5,
    "xtick.labelsize": 7.5,
    "ytick.labelsize": 7.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "0.88",
    "grid.linewidth": 0.6,
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "hepatorisk",
}


def styled() -> AbstractContextManager[None]:
    """The report's style for drawing and saving (wrap both: artists read rcParams when made)."""
    return plt.rc_context(_RC)


def new_figure(width: float = 5.2, height: float = 3.8, **subplots: Any) -> tuple[Figure, Any]:
    """A figure and its axes (a plain ``Figure``: pyplot never holds it, nothing to close)."""
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots(**subplots)


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG (deterministic: no timestamp or software metadata)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def encode_png(fig: Figure) -> str:
    """Base64 PNG, for inlining in HTML."""
    return base64.b64encode(png_bytes(fig)).decode("ascii")
