"""The pipeline file: one YAML per model, validated before any step runs.

A typo or an impossible value is refused with the file, line and key; ``--set key=value``
overrides any key from the command line (the value is read as YAML, so numbers stay numbers).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hepatorisk.cohorts.kinds import CohortKind
from hepatorisk.exceptions import ConfigError
from hepatorisk.sourced_yaml import (
    SourcedConfig,
    load_sourced_yaml,
    merge_overrides,
    validate_model,
)

__all__ = ["LandmarkSpec", "PipelineSpec", "load_pipeline"]

Fraction = Annotated[float, Field(gt=0.0, lt=1.0)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: the synthetic generator's scenarios of kratom's uncertain effects (generator.yaml
#: ``kratom_effects``: low, central and high excess liver risk and relapse benefit)
CohortScenario = Literal["low", "central", "high"]


class GenerateSpec(_Spec):
    """A synthetic cohort made when its folder is absent (``hepatorisk cohort generate``)."""

    patients: Annotated[int, Field(ge=1)]
    seed: int
    scenario: CohortScenario = "central"


class CohortSpec(_Spec):
    kind: CohortKind
    path: str
    generate: GenerateSpec | None = None  # synthetic: made if path is absent
    build_if_missing: bool = True  # public cohorts: built from data/public if path is absent


class FeatureSpec(_Spec):
    feature_set: str
    exclude: list[str] = []
    derived: dict[str, str] = {}


class SplitSpec(_Spec):
    test_size: Fraction = 0.25
    calibration_size: Fraction = 0.2
    seed: int = 7


class SearchSpec(_Spec):
    trials: Annotated[int, Field(ge=0)] = 0
    folds: Annotated[int, Field(ge=2, le=10)] = 5
    space: dict[str, list[float]] = {}  # parameter -> [low, high] (log-uniform for rates)


class DaskSpec(_Spec):
    """Where ``engine: dask`` trains: ``local`` (a LocalCluster of ``workers``) or a scheduler
    address (tcp://host:8786)."""

    scheduler: str = "local"
    workers: Annotated[int, Field(ge=1, le=256)] = 2


class UncertaintySpec(_Spec):
    """The bootstrap ensemble behind each probability's range (``modeling.uncertainty``)."""

    members: Annotated[int, Field(ge=0, le=100)] = 0  # 0: no range (at least 5 to have one)
    level: Fraction = 0.9
    seed: int = 7

    @model_validator(mode="after")
    def _enough_members(self) -> UncertaintySpec:
        if 0 < self.members < 5:
            raise ValueError(
                f"uncertainty.members must be 0 (no range) or at least 5, got {self.members}"
            )
        return self


class ModelSpec(_Spec):
    lightgbm: dict[str, float] = {}  # includes num_threads (LightGBM's threads; default 2)
    search: SearchSpec = SearchSpec()
    # by_landmark: calibration intercept and slope linear in the landmark week; per_landmark:
    # fitted on each landmark week's calibration rows (estimators.py)
    calibration: Literal["pooled", "by_landmark", "per_landmark"] = "pooled"
    uncertainty: UncertaintySpec = UncertaintySpec()
    # dask: the booster is trained by lightgbm.dask across workers (training/dask_fitting.py)
    engine: Literal["local", "dask"] = "local"
    dask: DaskSpec = DaskSpec()
    # issue 13 item 4: the same recipe refitted on the same-seed cohort generated under each
    # listed scenario of kratom's effects (training/scenario_models.py); served beside the model
    scenarios: list[CohortScenario] = []

    @model_validator(mode="after")
    def _scenarios_once(self) -> ModelSpec:
        if len(set(self.scenarios)) != len(self.scenarios):
            raise ValueError(
                f"model.scenarios lists a scenario twice ({self.scenarios}); list each of "
                "low, central, high at most once"
            )
        return self


class BaselineSpec(_Spec):
    n_knots: Annotated[int, Field(ge=3, le=20)] = 5
    C: Annotated[float, Field(gt=0)] = 1.0


class EvaluationSpec(_Spec):
    bootstrap: Annotated[int, Field(ge=100, le=10000)] = 1000
    seed: int = 7
    thresholds: tuple[Fraction, Fraction, Fraction] = (0.01, 0.5, 0.01)
    subgroups: list[str] = []
    subgroup_min_n: Annotated[int, Field(ge=10)] = 50


class GateSpec(_Spec):
    min_auroc: Annotated[float, Field(ge=0.5, le=1.0)] = 0.6
    calibration_slope: tuple[float, float] = (0.8, 1.2)
    subgroup_auroc_floor: Annotated[float, Field(ge=0.0, le=1.0)] = 0.55
    # landmark models: each landmark's test AUROC floor and calibration-slope range (default:
    # the pooled ones), and the model/oracle AUROC ratio floor where a truth is known
    landmark_min_auroc: Annotated[float, Field(ge=0.5, le=1.0)] | None = None
    landmark_calibration_slope: tuple[float, float] | None = None
    landmark_min_auroc_vs_oracle: Annotated[float, Field(ge=0.0, le=1.0)] | None = None


class LandmarkSpec(_Spec):
    """Landmark models (issue 13): one row per patient per landmark week at risk, the outcome
    the event in the next ``horizon_weeks`` (``cohorts.landmarks``), the history known by then
    as inputs (``cohorts.history``). ``design``: ``super`` = one model with the landmark week
    as a feature (van Houwelingen 2007), the one served; ``compare_designs`` also fits one
    model per landmark on the same rows and logs both on the same test patients."""

    weeks: list[Annotated[int, Field(ge=0, le=24)]] = [0, 2, 4, 8, 12]
    outcome: Literal["liver", "relapse"]
    design: Literal["super"] = "super"
    compare_designs: bool = True
    # the true probability at every landmark (cohorts.synthetic.landmark_oracle, when present);
    # false: the week-0 truth only (the cohort's p_*_true), e.g. for fast tests
    oracle: bool = True
    derived: dict[str, str] = {}  # history x baseline features (after unknowns are completed)


class PipelineSpec(_Spec):
    name: str
    description: str
    registered_model: str
    cohort: CohortSpec
    outcome: str
    horizon_weeks: Annotated[int, Field(ge=1)]
    oracle: str | None = None
    features: FeatureSpec
    labels: dict[str, str] = {}
    groups: dict[str, list[str]] = {}
    split: SplitSpec = SplitSpec()
    internal_external: str | None = None  # column: leave one group out, beside the random split
    model: ModelSpec = ModelSpec()
    baseline: BaselineSpec = BaselineSpec()
    evaluation: EvaluationSpec = EvaluationSpec()
    gate: GateSpec = GateSpec()
    landmarks: LandmarkSpec | None = None
    # thresholds of `hepatorisk monitor` / `recalibrate` (issue 18), validated by
    # hepatorisk.monitoring.thresholds; training does not read them
    monitoring: dict[str, Any] = {}

    @model_validator(mode="after")
    def _split_leaves_training_rows(self) -> PipelineSpec:
        if self.split.test_size + self.split.calibration_size >= 0.8:
            raise ValueError("test_size + calibration_size must leave at least 20% for training")
        return self

    @model_validator(mode="after")
    def _scenarios_need_a_generator(self) -> PipelineSpec:
        if self.model.scenarios and self.cohort.kind != "synthetic":
            raise ValueError(
                "model.scenarios needs a synthetic cohort (its generator's kratom_effects "
                f"scenarios); cohort.kind is {self.cohort.kind!r}: set model.scenarios to []"
            )
        return self


def _load_extended(path: Path, seen: tuple[Path, ...]) -> SourcedConfig:
    """``path`` over the file it ``extends`` (itself perhaps extending another), sources kept.

    Shared sections live in one file that pipelines extend; a variant of a pipeline (the
    full-size cohort's) extends that pipeline.
    """
    chain = (*seen, path.resolve())
    if chain[-1] in seen:
        raise ConfigError(f"{path}: extends itself ({' -> '.join(str(p) for p in chain)})")
    config = load_sourced_yaml(path, require_sources=False)
    base = config.values.pop("extends", None)
    if base is None:
        return config
    return merge_overrides(_load_extended(path.parent / str(base), chain), config)


def load_pipeline(path: Path, overrides: list[str] | None = None) -> PipelineSpec:
    """Read ``path`` and apply ``key=value`` overrides; errors name the file, line and key."""
    config = _load_extended(path, ())
    for item in overrides or []:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected key=value, e.g. split.seed=11")
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            value = text
        tree: dict[str, Any] = {}
        node = tree
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
        config = merge_overrides(config, SourcedConfig(tree, {}, {key: (f"--set {item}", 0)}))
    return validate_model(PipelineSpec, config)
