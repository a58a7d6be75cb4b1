"""``ModelBundle``: the complete served model, in plain files (no pickles).

A bundle is a folder with ``bundle.json`` (feature definitions, calibration, metadata, plain-word
labels and explanation groups) and ``booster.txt`` (LightGBM's own text format). Training writes
it, the MLflow pyfunc wraps it, ``hepatorisk export`` copies it, and the service loads it: the
patient record goes in, a calibrated probability and its exact explanation come out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from scipy.special import expit, logit

from hepatorisk.exceptions import DataSourceError
from hepatorisk.modeling.estimators import (
    CalibratedBooster,
    knots_from_saved,
    saved_calibration,
)
from hepatorisk.modeling.features import LANDMARK, FeatureBuilder, Records
from hepatorisk.modeling.scenarios import ScenarioModels
from hepatorisk.modeling.uncertainty import Ensemble
from hepatorisk.modeling.unknowns import (
    LIMIT_OF,
    MAX_COMPLETIONS,
    NOT_APPLICABLE,
    Completion,
    field_of,
    is_missing,
)

__all__ = ["BUNDLE_FORMAT", "Explanation", "ModelBundle", "Reach", "Scored"]

# 2: the feature builder stores each column's plausible values; an unknown input of a field
# never missing in training is averaged over them (``unknowns``). A format-1 bundle would score
# an omitted field as "no" or 0, so it is refused, not served.
BUNDLE_FORMAT = 2
#: completions per patient when measuring how far one unknown field could move the risk
REACH_COMPLETIONS = 16
#: varied records predicted at a time (bounds memory for a large batch)
REACH_CHUNK = 2_000

# field -> (lowest, highest) risk over its plausible values, the rest as given (or averaged)
Reach = dict[str, tuple[float, float]]


@dataclass(frozen=True)
class Explanation:
    """Exact SHAP explanation on the calibrated log-odds scale (sums to the served log-odds).

    Arrays first (the service reads them per request); the DataFrame views are for analysis.
    """

    base_value: np.ndarray  # (n,) calibrated log-odds of the average patient
    values: np.ndarray  # (n, model inputs) log-odds contributions
    group_values: np.ndarray  # (n, clinical variables) the same, summed by explanation group
    log_odds: np.ndarray  # (n,) base + contributions
    probability: np.ndarray  # (n,) calibrated probability
    input_names: list[str]
    group_names: list[str]
    index: pd.Index | None = None

    @property
    def contributions(self) -> pd.DataFrame:
        return pd.DataFrame(self.values, columns=self.input_names, index=self.index)

    @property
    def grouped(self) -> pd.DataFrame:
        return pd.DataFrame(self.group_values, columns=self.group_names, index=self.index)

    def on_probability_scale(self, parts: np.ndarray) -> np.ndarray:
        """Contributions (inputs or groups) on the probability scale: each part's share of the
        move from the base probability to the prediction, proportional to its log-odds share
        (sums exactly)."""
        total = self.log_odds - self.base_value
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total[:, None] != 0, parts / total[:, None], 0.0)
        return (self.probability - expit(self.base_value))[:, None] * share

    def probability_contributions(self) -> pd.DataFrame:
        moved = self.on_probability_scale(self.values)
        return pd.DataFrame(moved, columns=self.input_names, index=self.index)


@dataclass(frozen=True)
class Scored:
    """One request's records scored from one completion of their unknown inputs and one feature
    build (``ModelBundle.scored``): the first records (the patients) explained or predicted,
    with their model-uncertainty range; the others (their what-if records) predicted."""

    probability: np.ndarray  # (patients,) calibrated probability
    explanation: Explanation | None  # the patients' explanation, when asked for
    rest: np.ndarray  # the other records' calibrated probabilities
    interval: np.ndarray | None  # (patients, 2) the range; None when the model has no ensemble
    reach: list[Reach] | None = None  # the patients' unknown inputs' reach, when asked for
    scenarios: dict[str, np.ndarray] | None = None  # the patients' risk under each scenario


@dataclass
class ModelBundle:
    """Feature builder + calibrated booster + what a reader needs to know about them."""

    features: FeatureBuilder
    model: CalibratedBooster
    metadata: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    ensemble: Ensemble | None = None  # bootstrap refits: the probability's uncertainty range
    # the same recipe refitted under other scenarios of the synthetic cohort (``scenarios``)
    scenarios: ScenarioModels | None = None

    @property
    def input_columns(self) -> list[str]:
        """The patient-record columns the model reads (its MLflow signature)."""
        return list(self.features.input_columns_)

    def answering_landmark(self, week: float) -> int | None:
        """The landmark week whose model answers an assessment at ``week`` of treatment (the
        latest trained landmark at or before it); None for a model without landmarks."""
        if not self.features.__dict__.get("landmarks_"):
            return None
        return int(self.features.answering_landmark(np.array([float(week)]))[0])

    def predict_proba(self, records: Records, *, cap: int = MAX_COMPLETIONS) -> np.ndarray:
        """Calibrated probabilities; an unknown input the trees never saw missing is averaged
        over its plausible values given the rest (``unknowns``)."""
        completion = self.complete(records, cap=cap)
        if completion is None:
            return self.model.predict_proba(self.features.matrix(records))[:, 1]
        p = self.model.predict_proba(self.features.matrix(completion.columns))[:, 1]
        return completion.average(p)

    def predict_interval(self, records: Records) -> np.ndarray | None:
        """(n, 2) lower and upper probability of the model-uncertainty range of each record
        (``uncertainty``), over the same completion of unknown inputs as the served risk; None
        when the model carries no ensemble."""
        if self.ensemble is None or not self.ensemble.members:
            return None
        served, members = self.served_and_members(records)
        return self.ensemble.interval(served, members, self.answering_weeks(records))

    def scenario_probabilities(self, records: Records) -> dict[str, np.ndarray]:
        """Each scenario model's calibrated probabilities of the records, averaged over the
        same completion of unknown inputs as ``predict_proba``; empty without scenario models."""
        if self.scenarios is None or not self.scenarios.models:
            return {}
        completion = self.complete(records)
        X = self.features.matrix(records if completion is None else completion.columns)
        return self._scenario_probabilities_of(X, completion)

    def _scenario_probabilities_of(
        self, X: np.ndarray, completion: Completion | None
    ) -> dict[str, np.ndarray]:
        """``scenario_probabilities`` of rows already built (averaged by ``completion``)."""
        out = {}
        for name, model in (self.scenarios.models if self.scenarios else {}).items():
            p = model.predict_proba(X)[:, 1]
            out[name] = p if completion is None else completion.average(p)
        return out

    def answering_weeks(self, records: Records) -> np.ndarray | None:
        """Each record's answering landmark week (None for a model without landmarks)."""
        if not self.features.__dict__.get("landmarks_"):
            return None
        if LANDMARK not in records:
            return None
        return self.features.answering_landmark(np.asarray(records[LANDMARK], dtype=float))

    def served_and_members(self, records: Records) -> tuple[np.ndarray, np.ndarray]:
        """The served probabilities (n,) and the ensemble members' (members, n), each averaged
        over the same completion of unknown inputs."""
        if self.ensemble is None:
            raise ValueError("this model carries no uncertainty ensemble")
        completion = self.complete(records)
        X = self.features.matrix(records if completion is None else completion.columns)
        return self._served_and_members_of(X, completion)

    def _served_and_members_of(
        self, X: np.ndarray, completion: Completion | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``served_and_members`` of rows already built (averaged when ``completion`` is given)."""
        assert self.ensemble is not None
        served = self.model.predict_proba(X)[:, 1]
        members = self.ensemble.member_probabilities(X)
        if completion is None:
            return served, members
        return completion.average(served), np.vstack([completion.average(p) for p in members])

    def complete(self, records: Records, *, cap: int = MAX_COMPLETIONS) -> Completion | None:
        """The records completed over their unknown inputs, or None when nothing is averaged
        (every value known, or left to a missing branch the trees learned)."""
        if self.features.plausible_ is None:
            return None
        return self._complete_arrays(self.features.arrays(records), cap)

    def _complete_arrays(
        self, arrays: dict[str, np.ndarray], cap: int | np.ndarray
    ) -> Completion | None:
        """``complete`` of the records' arrays (``features.arrays``); ``cap`` per record or one."""
        plausible = self.features.plausible_
        if plausible is None:
            return None
        n = len(next(iter(arrays.values()))) if arrays else 0
        completion = plausible.complete(arrays, n, cap=cap)
        return completion if completion.marginalised else None

    def explain(self, records: Records) -> Explanation:
        index = records.index if isinstance(records, pd.DataFrame) else None
        completion = self.complete(records)
        if completion is None:
            return self.explain_matrix(self.features.matrix(records), index)
        return self._explain_completed(completion, index)

    def explain_then_predict(
        self, records: Records, explained: int
    ) -> tuple[Explanation, np.ndarray]:
        """The first ``explained`` rows explained, the rest only predicted, from one feature
        build (an assessment's patients, then their what-if records)."""
        completion = self.complete(records)
        if completion is None:
            X = self.features.matrix(records)
            return self.explain_matrix(X[:explained]), self.model.predict_proba(X[explained:])[:, 1]
        X = self.features.matrix(completion.columns)
        return self._explain_head_predict_rest(completion, X, explained)

    def scored(
        self, records: Records, head: int, *, explain: bool = True, reach: bool = False
    ) -> Scored:
        """The first ``head`` records explained (or only predicted) with their uncertainty
        range, the rest predicted, all from one completion of the unknown inputs and one feature
        build: the same numbers as ``explain_then_predict`` (or ``predict_proba``) and
        ``predict_interval`` of the first ``head`` records, each completing on its own. With
        ``reach``, also ``reach`` of the first ``head`` records: their varied records join the
        same completion and feature build, after the records."""
        arrays = self.features.arrays(records)
        n = len(next(iter(arrays.values()))) if arrays else 0
        plan = self._reach_plan({k: v[:head] for k, v in arrays.items()}) if reach else None
        caps: int | np.ndarray = MAX_COMPLETIONS
        if plan is not None and plan.rows:
            varied = plan.varied(arrays)
            arrays = {k: np.concatenate([v, varied[k]]) for k, v in arrays.items()}
            caps = np.repeat([MAX_COMPLETIONS, REACH_COMPLETIONS], [n, len(plan.rows)])
        whole = self._complete_arrays(arrays, caps)
        X = self.features.matrix(arrays if whole is None else whole.columns)
        completion, reached = whole, None
        if plan is not None and not plan.rows:
            reached = plan.reach(np.empty(0))
        elif plan is not None:
            X_records, completion = _first_rows(X, whole, n)
            m = len(X_records)
            p = self.model.predict_proba(X[m:])[:, 1]
            if whole is not None:
                p = np.bincount(whole.owner[m:] - n, whole.weight[m:] * p, minlength=len(p))
                p = p[: len(plan.rows)]
            reached = plan.reach(p)
            X = X_records
        records = {k: v[:n] for k, v in arrays.items()}
        explanation = None
        if completion is None:
            if explain:
                explanation = self.explain_matrix(X[:head])
                probability = explanation.probability
                rest = self.model.predict_proba(X[head:])[:, 1]
            else:
                p = self.model.predict_proba(X)[:, 1]
                probability, rest = p[:head], p[head:]
        else:
            if explain:
                explanation, rest = self._explain_head_predict_rest(completion, X, head)
                probability = explanation.probability
            else:
                p = completion.average(self.model.predict_proba(X)[:, 1])
                probability, rest = p[:head], p[head:]
        interval = self._head_interval(records, head, X, completion)
        scenarios = None
        if self.scenarios is not None and self.scenarios.models:
            scenarios = self._scenario_probabilities_of(*_first_rows(X, completion, head))
        return Scored(probability, explanation, rest, interval, reached, scenarios)

    def _head_interval(
        self, records: Records, head: int, X: np.ndarray, completion: Completion | None
    ) -> np.ndarray | None:
        """``predict_interval`` of the first ``head`` records from the rows already built for
        all of them: a patient's completions do not depend on the other records, and come
        first, in patient order, so the patients' rows are a prefix."""
        if self.ensemble is None or not self.ensemble.members:
            return None
        first = (
            records.iloc[:head]
            if isinstance(records, pd.DataFrame)
            else {k: v[:head] for k, v in records.items()}
        )
        weeks = self.answering_weeks(first)
        served, members = self._served_and_members_of(*_first_rows(X, completion, head))
        return self.ensemble.interval(served, members, weeks)

    def _explain_head_predict_rest(
        self, c: Completion, X: np.ndarray, head: int
    ) -> tuple[Explanation, np.ndarray]:
        """The first ``head`` records explained from their completions' rows (a prefix of
        ``X``), the other records' completions only predicted: a what-if record needs its
        probability, and exact TreeSHAP costs about 30 times a prediction per row."""
        mine = c.head(head)
        m = len(mine.owner)
        explanation = self._explain_completed(mine, None, X[:m])
        p = self.model.predict_proba(X[m:])[:, 1]
        rest = np.bincount(c.owner[m:] - head, c.weight[m:] * p, minlength=c.n - head)
        return explanation, rest

    def _explain_completed(
        self, c: Completion, index: pd.Index | None, X: np.ndarray | None = None
    ) -> Explanation:
        """The exact explanation of each completion, averaged by patient; the gap between the
        averaged log-odds and the log-odds of the averaged probability (Jensen's) is shared
        equally by the inputs computed from the averaged columns, so contributions still sum
        to the served log-odds. ``X``: the completions' rows, when already built."""
        e = self.explain_matrix(self.features.matrix(c.columns) if X is None else X)
        p = c.average(e.probability)
        values = c.average(e.values)
        base = c.average(e.base_value)
        gap = logit(np.clip(p, 1e-300, 1 - 1e-16)) - (base + values.sum(axis=1))
        sources = self.features.sources_
        names = list(self.features.feature_names_out_)
        mask = np.zeros((c.n, len(names)))
        for k, name in enumerate(names):
            for col in sources[name]:
                if col in c.marginalised:
                    mask[c.marginalised[col], k] = 1.0
        share = mask.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            values = values + np.where(share[:, None] > 0, mask * (gap / share)[:, None], 0.0)
        groups, membership = self._membership()
        log_odds = base + values.sum(axis=1)
        return Explanation(base, values, values @ membership, log_odds, p, names, groups, index)

    def unknown_fields(self, records: Records) -> list[list[str]]:
        """Each record's unknown fields among the model's inputs (a lab's limit counts as its
        lab), in completion order."""
        return self._unknown_fields_of(self.features.arrays(records))

    def _unknown_fields_of(self, arrays: dict[str, np.ndarray]) -> list[list[str]]:
        n = len(next(iter(arrays.values()))) if arrays else 0
        order = self.features.plausible_.columns() if self.features.plausible_ else list(arrays)
        missing = {col: is_missing(arrays[col]) for col in order if col in arrays}
        out: list[list[str]] = [[] for _ in range(n)]
        for col, miss in missing.items():
            name = field_of(col)
            for i in np.flatnonzero(miss):
                if name not in out[i]:
                    out[i].append(name)
        return out

    def reach(self, records: Records) -> list[Reach]:
        """For each record, each unknown field's lowest and highest risk over its plausible
        values given the rest (other unknowns averaged): how far knowing it could move the
        risk. A non-user's kratom content is not unknown, only not applicable: left out."""
        arrays = self.features.arrays(records)
        plan = self._reach_plan(arrays)
        p = np.empty(len(plan.rows))
        for start in range(0, len(plan.rows), REACH_CHUNK):
            varied = plan.varied(arrays, slice(start, start + REACH_CHUNK))
            p[start : start + REACH_CHUNK] = self.predict_proba(varied, cap=REACH_COMPLETIONS)
        return plan.reach(p)

    def _reach_plan(self, arrays: dict[str, np.ndarray]) -> _ReachPlan:
        """The varied records ``reach`` scores: per record and unknown field, one record per
        plausible value of the field given the rest."""
        plausible = self.features.plausible_
        fields = self._unknown_fields_of(arrays)
        plan = _ReachPlan(len(fields))
        if plausible is None:
            return plan
        wanted: dict[tuple[str, str], list[int]] = {}  # (field, column varied) -> records
        for i, names in enumerate(fields):
            for name in names:
                col = name if name in arrays else _limit_for(name, arrays)
                if col is not None and col in plausible.tables:
                    wanted.setdefault((name, col), []).append(i)
        for (name, col), patients in wanted.items():  # one vectorised lookup per field
            dists = plausible.lookup(col, arrays, np.asarray(patients))
            for i, dist in zip(patients, dists, strict=True):
                if dist is None or dist.missing >= NOT_APPLICABLE or not len(dist.values):
                    continue  # never observed in this stratum: not applicable here
                start = len(plan.rows)
                for v in dist.values:
                    plan.rows.append(i)
                    plan.values.append((col, v))
                plan.spans.append((i, name, start, len(plan.rows)))
        return plan

    def explain_matrix(self, X: np.ndarray, index: pd.Index | None = None) -> Explanation:
        """``explain`` of rows already built by ``features.matrix``."""
        contrib, base = self.model.contributions(X)
        groups, membership = self._membership()
        log_odds = base + contrib.sum(axis=1)
        names = list(self.features.feature_names_out_)
        return Explanation(
            base, contrib, contrib @ membership, log_odds, expit(log_odds), names, groups, index
        )

    def _membership(self) -> tuple[list[str], np.ndarray]:
        """Group names and the (inputs x groups) 0/1 matrix that sums contributions by group,
        built once."""
        cached = self.__dict__.get("_membership_cache")
        if cached is None:
            members = self.group_members()
            inputs = {name: i for i, name in enumerate(self.features.feature_names_out_)}
            matrix = np.zeros((len(inputs), len(members)))
            for j, cols in enumerate(members.values()):
                matrix[[inputs[c] for c in cols], j] = 1.0
            cached = self.__dict__["_membership_cache"] = (list(members), matrix)
        return cached

    def group_members(self) -> dict[str, list[str]]:
        """Clinical variable -> model inputs; inputs not in a declared group stand alone."""
        inputs = self.features.feature_names_out_
        members = {g: [m for m in cols if m in inputs] for g, cols in self.groups.items()}
        grouped = {m for cols in members.values() for m in cols}
        members |= {name: [name] for name in inputs if name not in grouped}
        return {g: cols for g, cols in members.items() if cols}

    def group_sources(self) -> dict[str, list[str]]:
        """Clinical variable -> the patient-record columns it is computed from (a derived
        input's sources), built once: whether a caller gave a variable is read from these."""
        cached: dict[str, list[str]] | None = self.__dict__.get("_sources_cache")
        if cached is None:
            sources = self.features.sources_
            cached = self.__dict__["_sources_cache"] = {
                g: sorted({s for m in cols for s in sources[m]})
                for g, cols in self.group_members().items()
            }
        return cached

    def label(self, name: str) -> str:
        return self.labels.get(name, name.replace("_", " "))

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.model.booster_.save_model(str(directory / "booster.txt"))
        intercept, slope = self.model.calibration_
        document = {
            "format": BUNDLE_FORMAT,
            "features": self.features.to_dict(),
            "booster_params": self.model.get_params(),
            "calibration": {
                "intercept": intercept,
                "slope": slope,
                # by landmark: [week, intercept, slope] knots, linear between them (none:
                # pooled); earlier bundles held landmark_intercept/landmark_slope (c, d) of
                # intercept + c * L, slope + d * L, still read
                "landmark_knots": saved_calibration(self.model)["landmark_calibration"],
            },
            "metadata": self.metadata,
            "labels": self.labels,
            "groups": self.groups,
        }
        if self.ensemble is not None:
            document["uncertainty"] = self.ensemble.to_dict()
            for k, member in enumerate(self.ensemble.members):
                member.booster_.save_model(str(directory / f"member_{k:02d}.txt"))
        if self.scenarios is not None:
            document["scenarios"] = self.scenarios.to_dict()
            for name, scenario_model in self.scenarios.models.items():
                scenario_model.booster_.save_model(str(directory / f"scenario_{name}.txt"))
        (directory / "bundle.json").write_text(json.dumps(document, indent=2, default=_jsonable))
        return directory

    @classmethod
    def load(cls, directory: Path) -> ModelBundle:
        path = directory / "bundle.json"
        try:
            document = json.loads(path.read_text())
            booster = lgb.Booster(model_file=str(directory / "booster.txt"))
        except (OSError, ValueError, lgb.basic.LightGBMError) as exc:
            raise DataSourceError(f"{directory}: not a readable hepatorisk model ({exc})") from None
        if document.get("format") == 1:
            raise DataSourceError(
                f"{path}: model format 1 predates unknown-input handling (issue 13): it would "
                "score an omitted field as 'no' or 0; retrain and re-export the model with this "
                f"version (format {BUNDLE_FORMAT})"
            )
        if document.get("format") != BUNDLE_FORMAT:
            raise DataSourceError(
                f"{path}: model format {document.get('format')!r}, this version reads "
                f"{BUNDLE_FORMAT}"
            )
        model = CalibratedBooster(**document["booster_params"])
        model.booster_ = booster
        model.classes_ = np.array([0, 1])
        calibration = document["calibration"]
        model.calibration_ = (calibration["intercept"], calibration["slope"])
        model.landmark_calibration_ = knots_from_saved(
            calibration.get("landmark_knots")
            or [calibration.get("landmark_intercept", 0.0), calibration.get("landmark_slope", 0.0)],
            model.calibration_,
        )
        features = FeatureBuilder.from_dict(document["features"])
        model.feature_names_in_ = np.asarray(features.feature_names_out_, dtype=object)
        ensemble = None
        if document.get("uncertainty"):
            saved = document["uncertainty"]
            try:
                boosters = [
                    lgb.Booster(model_file=str(directory / f"member_{k:02d}.txt"))
                    for k in range(len(saved["members"]))
                ]
            except (OSError, lgb.basic.LightGBMError) as exc:
                raise DataSourceError(
                    f"{directory}: an ensemble member is unreadable ({exc})"
                ) from None
            ensemble = Ensemble.from_dict(saved, boosters, model)
        scenarios = None
        if document.get("scenarios"):
            names = list(document["scenarios"]["models"])
            try:
                scenario_boosters = [
                    lgb.Booster(model_file=str(directory / f"scenario_{name}.txt"))
                    for name in names
                ]
            except (OSError, lgb.basic.LightGBMError) as exc:
                raise DataSourceError(
                    f"{directory}: a scenario model (scenario_<name>.txt of "
                    f"{', '.join(names)}) is unreadable ({exc})"
                ) from None
            scenarios = ScenarioModels.from_dict(document["scenarios"], scenario_boosters, model)
        return cls(
            features=features,
            model=model,
            metadata=document["metadata"],
            labels=document["labels"],
            groups={k: list(v) for k, v in document["groups"].items()},
            ensemble=ensemble,
            scenarios=scenarios,
        )


@dataclass
class _ReachPlan:
    """The varied records of ``reach``: record ``rows[j]`` with ``values[j]`` (column, value)
    set; ``spans``: (record, field, first, stop) of each field's varied records."""

    n: int
    rows: list[int] = field(default_factory=list)
    values: list[tuple[str, object]] = field(default_factory=list)
    spans: list[tuple[int, str, int, int]] = field(default_factory=list)

    def varied(self, arrays: dict[str, np.ndarray], part: slice = slice(None)) -> dict[str, Any]:
        index = np.asarray(self.rows[part], dtype=np.int64)
        out = {k: v[index].copy() for k, v in arrays.items()}
        for j, (col, v) in enumerate(self.values[part]):
            out[col][j] = v
        return out

    def reach(self, p: np.ndarray) -> list[Reach]:
        """Each record's reach from the varied records' probabilities ``p``."""
        out: list[Reach] = [{} for _ in range(self.n)]
        for i, name, start, stop in self.spans:
            out[i][name] = (float(p[start:stop].min()), float(p[start:stop].max()))
        return out


def _first_rows(
    X: np.ndarray, completion: Completion | None, n: int
) -> tuple[np.ndarray, Completion | None]:
    """The first ``n`` records' rows of ``X`` and their completion: a prefix, as a record's
    completions follow the previous record's; None when nothing is averaged for them (one row
    each)."""
    first = None if completion is None else completion.head(n)
    if first is None or not first.marginalised:
        return X[:n], None
    return X[: len(first.owner)], first


def _limit_for(name: str, arrays: dict[str, np.ndarray]) -> str | None:
    """A lab the model reads only through its limit column: vary the limit."""
    return next((lim for lim, lab in LIMIT_OF.items() if lab == name and lim in arrays), None)


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in bundle.json")
