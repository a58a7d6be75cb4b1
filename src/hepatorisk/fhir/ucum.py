"""UCUM unit expressions -> (factor to base units, dimension), for the units of the labs read.

A small parser of UCUM's case-sensitive grammar (https://ucum.org/ucum, §2 "Syntax Rules"):
terms joined by ``.`` (multiplication) and ``/`` (division), a leading ``/``, each a prefixed
atom with an optional integer exponent (``mm3``, ``s-1``), a ``10*n``/``10^n`` factor, an
integer, or an annotation ``{...}`` (which is the unity). The atoms are those of UCUM's tables
the liver labs need; an expression using any other atom is not understood (None), so a unit is
accepted only when it is a UCUM expression whose dimension is the lab's LOINC property
(catalytic, mass, substance or number concentration, or a ratio) and converted by the factors
UCUM defines (e.g. ``U`` = umol/min, ``kat`` = mol/s, ``L`` = dm3), never by string matching.

No UCUM library was available on PyPI for this project (the package list has none; the tests
check the factors against UCUM's definitions written out by hand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["Dimension", "Quantity", "convert_factor", "parse"]

Dimension = tuple[int, int, int, int]  # exponents of gram, metre, second, mole


@dataclass(frozen=True)
class Quantity:
    """A unit as a factor of the base units (g, m, s, mol) and its dimension."""

    factor: float
    dim: Dimension

    def __mul__(self, other: Quantity) -> Quantity:
        return Quantity(self.factor * other.factor, _add(self.dim, other.dim, 1))

    def __pow__(self, n: int) -> Quantity:
        return Quantity(self.factor**n, (self.dim[0] * n, self.dim[1] * n, self.dim[2] * n,
                                          self.dim[3] * n))  # fmt: skip


def _add(a: Dimension, b: Dimension, sign: int) -> Dimension:
    return (a[0] + sign * b[0], a[1] + sign * b[1], a[2] + sign * b[2], a[3] + sign * b[3])


ONE = Quantity(1.0, (0, 0, 0, 0))
# UCUM atoms (base units g, m, s, mol; mol is kept as a dimension, as clinical chemistry does):
# m, g, s base; L = dm3 = 1e-3 m3 (also "l"); min = 60 s, h = 60 min, d = 24 h; kat = mol/s;
# U = umol/min ("enzyme unit"); mol (the count 6.0221367e23, here a dimension).
ATOMS: dict[str, Quantity] = {
    "m": Quantity(1.0, (0, 1, 0, 0)),
    "g": Quantity(1.0, (1, 0, 0, 0)),
    "s": Quantity(1.0, (0, 0, 1, 0)),
    "min": Quantity(60.0, (0, 0, 1, 0)),
    "h": Quantity(3600.0, (0, 0, 1, 0)),
    "d": Quantity(86400.0, (0, 0, 1, 0)),
    "wk": Quantity(604800.0, (0, 0, 1, 0)),
    "L": Quantity(1e-3, (0, 3, 0, 0)),
    "l": Quantity(1e-3, (0, 3, 0, 0)),
    "mol": Quantity(1.0, (0, 0, 0, 1)),
    "kat": Quantity(1.0, (0, 0, -1, 1)),
    "U": Quantity(1e-6 / 60.0, (0, 0, -1, 1)),
}
# metric atoms take prefixes (all the above are metric in UCUM except min, h, d, wk)
METRIC = {"m", "g", "s", "L", "l", "mol", "kat", "U"}
PREFIXES = {
    "Y": 1e24, "Z": 1e21, "E": 1e18, "P": 1e15, "T": 1e12, "G": 1e9, "M": 1e6, "k": 1e3,
    "h": 1e2, "da": 1e1, "d": 1e-1, "c": 1e-2, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12,
    "f": 1e-15, "a": 1e-18, "z": 1e-21, "y": 1e-24,
}  # fmt: skip
_TERM = re.compile(r"(?P<atom>[A-Za-z]+)(?P<exp>[+-]?\d+)?")
_POWER = re.compile(r"10[*^](?P<exp>[+-]?\d+)")


@lru_cache(maxsize=512)
def parse(expression: str) -> Quantity | None:
    """The unit of a UCUM expression, or None when it is not one this parser knows."""
    text = re.sub(r"\{[^{}]*\}", "", expression)  # annotations are the unity
    if text in ("", "1"):
        return ONE
    if text.startswith("/"):
        text = "1" + text
    total = ONE
    for sign, part in _split(text):
        q = _component(part)
        if q is None:
            return None
        total = total * (q if sign > 0 else Quantity(1 / q.factor, _add((0, 0, 0, 0), q.dim, -1)))
    return total


def _split(text: str) -> list[tuple[int, str]]:
    out, sign, start = [], 1, 0
    for i, ch in enumerate(text):
        if ch in "./":
            out.append((sign, text[start:i]))
            sign, start = (1 if ch == "." else -1), i + 1
    out.append((sign, text[start:]))
    return out


def _component(part: str) -> Quantity | None:
    if part.isdigit():
        return Quantity(float(part), (0, 0, 0, 0))
    m = _POWER.fullmatch(part)
    if m is not None:
        return Quantity(10.0 ** int(m["exp"]), (0, 0, 0, 0))
    m = _TERM.fullmatch(part)
    if m is None:
        return None
    unit = _atom(m["atom"])
    if unit is None:
        return None
    return unit ** int(m["exp"]) if m["exp"] else unit


def _atom(symbol: str) -> Quantity | None:
    if symbol in ATOMS:
        return ATOMS[symbol]
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        rest = symbol[len(prefix) :]
        if symbol.startswith(prefix) and rest in METRIC:
            return Quantity(PREFIXES[prefix] * ATOMS[rest].factor, ATOMS[rest].dim)
    return None


def convert_factor(source: str, target: str) -> float | None:
    """x [source] * factor = y [target]; None when either is unknown or the dimensions differ."""
    a, b = parse(source), parse(target)
    if a is None or b is None or a.dim != b.dim:
        return None
    return float(f"{a.factor / b.factor:.12g}")  # 10*3/uL -> 10*9/L is 1, not 0.999...
