"""Weekly opioid urine-screen words for every randomized CTN-0094 patient.

Two published derivations are reproduced from the raw ``uds``, ``visit`` and ``randomization``
tables, because the published outcomes were computed on one and the current helper data on the
other:

* **current** (``public.ctn0094extra`` v1.0.4, ``derived_weeklyOpioidPattern``, script
  ``inst/scripts/create_weeklyOpioidPattern_20220308.R``): study week 1 starts the day *after*
  randomization (the randomization day closes week 0); a screen is positive for *non-study*
  opioids only (``Opioid``, plus methadone for buprenorphine or naltrexone arms and buprenorphine
  for methadone or naltrexone arms); words are split into Baseline / Phase_1 / Phase_2 (CTN-0030
  patients re-randomized to phase 2 start Phase_2 in the week of that second randomization).
* **ctnote** (the word ``usePatternUDS`` behind CTNote v0.1.3's ``outcomesCTN0094``, built in
  2022): study week 1 starts *on* the randomization day, any ``Opioid``, ``Methadone`` or
  ``Buprenorphine`` screen is positive whatever the arm, and the word runs over the whole
  follow-up (phase 1 and phase 2 together).

Common to both (as in the R source): each patient has a protocol day grid from day -30 to day 168
(CTN-0027, CTN-0051) or, for CTN-0030, to 98 days after randomization or 168 days after the
second randomization. A day counts as *negative* when a clinic visit (``visit.what`` in
visit/final) was recorded without an opioid-positive screen, as *positive* when a qualifying
screen was positive; a week is ``+`` (positive only), ``-`` (negative only), ``*`` (both), ``o``
(neither, from week 1 on) or ``_`` (neither, before treatment). The published derivation tells a
negative from a missing week by visit attendance, not by a collected sample: about 18% of the
negative treatment weeks have no urine-sample record in ``uds_temp``. The weekly table therefore
also counts the ``uds_temp`` samples of each week (``samples``) for sensitivity analyses; the
words and outcomes do not use it, so that they stay equal to the published ones.
ctn0094extra's imputed "Missing" visits never fall before week 1 for randomized patients, so they
cannot change a symbol and are not recomputed here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from hepatorisk.cohorts.ctn0094.raw import RawTables

__all__ = ["SYMBOLS", "UdsWords", "randomized_patients", "uds_words"]

# Symbol -> status name used in the weekly table.
SYMBOLS = {"+": "positive", "-": "negative", "*": "mixed", "o": "missing", "_": "not_required"}
_START_DAY = -30
_END_DAY_27_51 = 168
_CTN30_PHASE1_DAYS = 98
_CTN30_PHASE2_DAYS = 168
_STUDY_OPIOIDS = ("Opioid", "Methadone", "Buprenorphine")


@dataclass(frozen=True)
class UdsWords:
    """Per-patient words (one row per ``who``) and the weekly long table they were made from."""

    words: pd.DataFrame
    weekly: pd.DataFrame


def randomized_patients(raw: RawTables) -> pd.DataFrame:
    """One row per randomized patient: trial, arm, first and (CTN-0030) second randomization day."""
    rand = raw.randomization.assign(which=raw.randomization["which"].astype(int))
    first = rand[rand["which"] == 1][["who", "treatment", "when"]].rename(
        columns={"when": "rand1_day"}
    )
    second = rand[rand["which"] == 2][["who", "when"]].rename(columns={"when": "rand2_day"})
    out = first.merge(raw.everybody[["who", "project"]], on="who", how="left")
    out = out.merge(second, on="who", how="left")
    # CTN-0027 and CTN-0051 record a "second randomization" on the same footing as the first;
    # only CTN-0030 re-randomized (phase 2), so the others are dropped as in the R source.
    out.loc[out["project"] != "30", "rand2_day"] = np.nan
    ctn30 = out["project"] == "30"
    end = np.where(
        out["rand2_day"].notna(),
        out["rand2_day"] + _CTN30_PHASE2_DAYS,
        out["rand1_day"] + _CTN30_PHASE1_DAYS,
    )
    out["end_day"] = np.where(ctn30, end, _END_DAY_27_51).astype("int64")
    out["rand1_day"] = out["rand1_day"].astype("int64")
    return out.sort_values("who").reset_index(drop=True)


def _daily(raw: RawTables, patients: pd.DataFrame) -> pd.DataFrame:
    lengths = (patients["end_day"] - _START_DAY + 1).to_numpy()
    days = pd.DataFrame(
        {
            "who": np.repeat(patients["who"].to_numpy(), lengths),
            "when": np.concatenate([np.arange(_START_DAY, e + 1) for e in patients["end_day"]]),
        }
    )
    days["when"] = days["when"].astype("float64")

    drug = patients.set_index("who")["treatment"].map(_study_drug)
    uds = raw.uds[raw.uds["what"].isin(_STUDY_OPIOIDS)][["who", "what", "when"]]
    uds = uds[uds["who"].isin(patients["who"])]
    arm = uds["who"].map(drug)
    non_study = (
        (uds["what"] == "Opioid")
        | ((uds["what"] == "Methadone") & (arm != "Methadone"))
        | ((uds["what"] == "Buprenorphine") & (arm != "Buprenorphine"))
    )
    visits = raw.visit[raw.visit["what"].isin(["visit", "final"])][["who", "when"]]

    days = _flag(days, uds[non_study], "pos_current")
    days = _flag(days, uds, "pos_ctnote")
    return _flag(days, visits, "visit")


def _study_drug(treatment: str) -> str:
    if "BUP" in treatment:
        return "Buprenorphine"
    return "Methadone" if treatment == "Methadone" else "Naltrexone"


def _flag(days: pd.DataFrame, events: pd.DataFrame, name: str) -> pd.DataFrame:
    keys = events[["who", "when"]].drop_duplicates().assign(**{name: True})
    out = days.merge(keys, on=["who", "when"], how="left")
    out[name] = out[name].fillna(False).astype(bool)
    return out


def _weeks(daily: pd.DataFrame, rand1: pd.Series, positive: str, first_day: int) -> pd.DataFrame:
    """Symbol per (who, week); ``first_day`` is the day after randomization that opens week 1."""
    since = daily["when"] - daily["who"].map(rand1)
    frame = pd.DataFrame(
        {
            "who": daily["who"],
            "week": ((since - first_day) // 7 + 1).astype("int64"),
            "pos": daily[positive],
            "neg": daily["visit"] & ~daily[positive],
        }
    )
    weekly = frame.groupby(["who", "week"], sort=True).agg(pos=("pos", "any"), neg=("neg", "any"))
    weekly = weekly.reset_index()
    weekly["symbol"] = np.select(
        [
            weekly["pos"] & ~weekly["neg"],
            ~weekly["pos"] & weekly["neg"],
            weekly["pos"] & weekly["neg"],
            weekly["week"] >= 1,
        ],
        ["+", "-", "*", "o"],
        "_",
    )
    return weekly[["who", "week", "symbol"]]


def uds_words(raw: RawTables) -> UdsWords:
    """Both derivations' words for every randomized patient, plus the current weekly table."""
    patients = randomized_patients(raw)
    daily = _daily(raw, patients)
    rand1 = patients.set_index("who")["rand1_day"]

    current = _weeks(daily, rand1, "pos_current", first_day=1)
    rand2_week = ((patients.set_index("who")["rand2_day"] - rand1 - 1) // 7 + 1).dropna()
    start2 = current["who"].map(rand2_week)
    current["phase"] = np.where(
        current["week"] <= 0,
        "baseline",
        np.where(start2.notna() & (current["week"] >= start2), "phase_2", "phase_1"),
    )
    current["status"] = current["symbol"].map(SYMBOLS)
    current["samples"] = _samples_per_week(raw, rand1, current)

    words = (
        current.groupby(["who", "phase"])["symbol"].agg("".join).unstack(fill_value="")
    ).reindex(columns=["baseline", "phase_1", "phase_2"], fill_value="")
    ctnote = _weeks(daily, rand1, "pos_ctnote", first_day=0)
    words["ctnote"] = ctnote[ctnote["week"] >= 1].groupby("who")["symbol"].agg("".join)
    words["phase_2_start_week"] = rand2_week.astype("int64").reindex(words.index).astype("Int64")
    words = words.reset_index()
    return UdsWords(
        words=words[["who", "baseline", "phase_1", "phase_2", "phase_2_start_week", "ctnote"]],
        weekly=current[["who", "week", "phase", "symbol", "status", "samples"]].reset_index(
            drop=True
        ),
    )


def _samples_per_week(raw: RawTables, rand1: pd.Series, weekly: pd.DataFrame) -> pd.Series:
    """Urine samples with a temperature record (``uds_temp``) in each (who, week) of ``weekly``."""
    temp = raw.uds_temp.dropna(subset=["when"])
    temp = temp[temp["who"].isin(rand1.index)]
    week = ((temp["when"] - temp["who"].map(rand1) - 1) // 7 + 1).astype("int64")
    counts = temp.assign(week=week).groupby(["who", "week"]).size()
    index = pd.MultiIndex.from_frame(weekly[["who", "week"]])
    return pd.Series(counts.reindex(index, fill_value=0).to_numpy(), index=weekly.index)
