"""Relapse outcomes from the weekly urine-screen words, as defined in the literature.

* ``relapse_ctn0094`` / ``relapse_ctn0094_week``: CTNote's ``RsE_ctnNinetyFour_2023`` /
  ``RsT_ctnNinetyFour_2023`` ("weeks to relapse: 4 consecutive weeks of positive UOS", missing
  coded positive; CTNote ``definitions_20221123.xlsx`` and vignette ``library_relapse``). CTNote
  recodes ``o`` and then ``*`` to ``+`` and calls ``detect_in_window(width=4, threshold=4)`` on
  its word (see :mod:`.weekly`, derivation *ctnote*). The time is CTNote's: the 1-based index of
  the first 4-week window that matches, or the number of windows when none does (censored).
* ``relapse_12w``: Luo et al., JAMA Psychiatry 2024: "4 consecutive weeks of UDS results either
  missing or positive for nonprescribed opioids by week 12 of treatment", computed on the current
  word (non-study opioids only, week 1 starting the day after randomization), weeks 1-12 only;
  mixed weeks count as positive, as in CTNote.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["detect_in_window", "recode_missing", "relapse_outcomes"]

RELAPSE_RUN_WEEKS = 4  # both definitions: 4 consecutive weeks positive or missing
LUO_HORIZON_WEEKS = 12  # Luo et al. 2024: by week 12 of treatment


def recode_missing(word: str) -> str:
    """CTNote's recoding: missing (``o``), then mixed (``*``) weeks become positive."""
    return word.replace("o", "+").replace("*", "+")


def detect_in_window(
    word: str, window_width: int = 4, threshold: int = 3, match: str = "+"
) -> tuple[int, int] | None:
    """CTNote ``detect_in_window``: (time, event) of the first window with ``threshold`` matches.

    ``time`` is the 1-based start of that window, or the number of windows if none matches
    (event 0). ``None`` when the word is shorter than the window (CTNote returns NA).
    """
    if threshold > window_width:
        raise ValueError(f"threshold ({threshold}) must be <= window_width ({window_width})")
    n_windows = len(word) - window_width + 1
    if n_windows < 1:
        return None
    for start in range(n_windows):
        if word[start : start + window_width].count(match) >= threshold:
            return start + 1, 1
    return n_windows, 0


def relapse_outcomes(words: pd.DataFrame) -> pd.DataFrame:
    """Both relapse outcomes for every patient of ``words`` (from :func:`.weekly.uds_words`)."""
    rows = []
    for who, ctnote, phase_1, phase_2 in words[["who", "ctnote", "phase_1", "phase_2"]].itertuples(
        index=False
    ):
        ctn = detect_in_window(recode_missing(ctnote), RELAPSE_RUN_WEEKS, RELAPSE_RUN_WEEKS)
        early = recode_missing((phase_1 + phase_2)[:LUO_HORIZON_WEEKS])
        luo = detect_in_window(early, RELAPSE_RUN_WEEKS, RELAPSE_RUN_WEEKS)
        if ctn is None or luo is None or len(early) < LUO_HORIZON_WEEKS:
            raise ValueError(f"patient {who}: follow-up shorter than {LUO_HORIZON_WEEKS} weeks")
        rows.append(
            {
                "who": who,
                "relapse_ctn0094": bool(ctn[1]),
                "relapse_ctn0094_week": ctn[0],
                "relapse_12w": bool(luo[1]),
                # the week the qualifying 4-week run starts; missing when there is no event
                "relapse_12w_week": luo[0] if luo[1] else pd.NA,
            }
        )
    out = pd.DataFrame(rows)
    out["relapse_12w_week"] = out["relapse_12w_week"].astype("Int64")
    return out
