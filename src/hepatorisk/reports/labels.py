"""Plain words for the codes the records store (``non_hispanic_black``, ``xr_naltrexone``, True).

A reader of the report should never meet a raw code: every category level, subgroup variable
and boolean the report prints passes through ``human`` or ``variable_name``.
"""

from __future__ import annotations

import re

__all__ = ["human", "human_text", "level_name", "outcome_words", "variable_name"]

_CODES = {
    "non_hispanic_white": "non-Hispanic White",
    "non_hispanic_black": "non-Hispanic Black",
    "hispanic": "Hispanic",
    "xr_naltrexone": "extended-release naltrexone",
    "buprenorphine": "buprenorphine",
    "methadone": "methadone",
    "leaf_powder": "leaf powder",
    "prescription": "prescription opioids",
    "hepatocellular": "hepatocellular",
    "none": "none",
    "missing": "not recorded",
}
_VARIABLES = {
    "sex": "sex",
    "age_band": "age band (years)",
    "race_ethnicity": "race and ethnicity",
    "hcv_antibody": "anti-HCV",
    "hbv_surface_antigen": "HBsAg",
    "moud_arm": "medication for OUD",
    "sex x race_ethnicity": "sex & race",
}
# booleans of a variable read as test results rather than yes/no
_RESULT = {"hcv_antibody", "hbv_surface_antigen", "hiv"}


def human(code: object) -> str:
    """A stored code in words (unknown codes: underscores become spaces)."""
    text = str(code)
    return _CODES.get(text, text.replace("_", " "))


def level_name(variable: str, level: object) -> str:
    """A subgroup level in words (booleans as positive/negative or yes/no)."""
    text = str(level)
    if text in ("True", "False", "true", "false"):
        yes = text.lower() == "true"
        if variable in _RESULT:
            return "positive" if yes else "negative"
        return "yes" if yes else "no"
    if " & " in text:
        return " & ".join(human(part) for part in text.split(" & "))
    return human(text)


def variable_name(variable: str) -> str:
    return _VARIABLES.get(variable, variable.replace("_", " "))


_CODE_IN_TEXT = re.compile(r"\b(" + "|".join(k for k in _CODES if "_" in k) + r")\b")


_LEVEL_IN_ROW = re.compile(r"^(.*?: )([a-z_]+)(, n \(%\))$")


def human_text(text: str) -> str:
    """Codes inside a longer text (a Table 1 row label such as 'race and ethnicity: hispanic,
    n (%)') replaced by their words."""
    row = _LEVEL_IN_ROW.match(text)
    if row:
        return f"{row.group(1)}{human(row.group(2))}{row.group(3)}"
    return _CODE_IN_TEXT.sub(lambda m: _CODES[m.group(1)], text)


def outcome_words(outcome: str, horizon: object) -> str:
    """The outcome column in words ('liver_event_12w' -> a new-onset liver-enzyme elevation)."""
    if outcome.startswith("liver"):
        return f"new-onset liver-enzyme elevation by week {horizon}"
    if outcome.startswith("relapse"):
        return f"return to opioid use by week {horizon}"
    return outcome.replace("_", " ")
