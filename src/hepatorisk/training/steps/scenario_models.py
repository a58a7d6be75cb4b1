"""Scenario models (issue 13 item 4): the served recipe refitted on the synthetic cohort
generated under another scenario of kratom's uncertain effects, so that an answer can show how
far it rests on that assumption (``modeling.scenarios`` serves them).

For each scenario in ``model.scenarios`` the cohort of the same size, seed, follow-up and
generator parameters as the pipeline's, only the scenario changed, is generated beside it
(``<cohort>-<scenario>``; reused when already there and made the same way). Its rows are built
as the pipeline's (landmark rows included) but without the landmark oracle (the truth is not
needed: nothing here is evaluated against it, and the oracle is the costly part of ingest),
split by the same seed, and a booster with the served model's parameters is trained on its
training rows through the served model's fitted feature builder (so it reads exactly the same
matrix) and calibrated, in the same form, on its own calibration rows. The bootstrap ensemble
and the search are not repeated: the scenario answer is a point estimate beside the range.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from hepatorisk.cohorts.manifest import read_manifest
from hepatorisk.exceptions import ConfigError, DataContractError
from hepatorisk.modeling.estimators import CalibratedBooster
from hepatorisk.modeling.features import FeatureBuilder
from hepatorisk.modeling.scenarios import ScenarioModels
from hepatorisk.training.spec import PipelineSpec
from hepatorisk.training.steps.ingestion import Dataset, ingest
from hepatorisk.training.steps.splitting import Split, split

__all__ = ["fit_scenario_models", "scenario_folder"]

log = logging.getLogger(__name__)


def scenario_folder(cohort: Path, scenario: str) -> Path:
    """Where the cohort of ``scenario`` lives: beside the pipeline's, suffixed."""
    return cohort.parent / f"{cohort.name}-{scenario}"


def fit_scenario_models(
    dataset: Dataset,
    parts: Split,
    spec: PipelineSpec,
    builder: FeatureBuilder,
    booster: CalibratedBooster,
) -> ScenarioModels | None:
    """One calibrated booster per scenario of ``spec.model.scenarios`` (None when none is
    listed), with the spread refitting alone gives (``ScenarioModels.noise_points``).
    ``dataset``, ``parts``: the pipeline's rows; ``builder``: the served model's fitted feature
    builder; ``booster``: the served booster, trained, not yet calibrated (its parameters)."""
    if not spec.model.scenarios:
        return None
    cohort, params = dataset.source, booster.get_params()
    served = str(read_manifest(cohort).extra.get("scenario", "central"))
    models: dict[str, CalibratedBooster] = {}
    for name in spec.model.scenarios:
        if name == served:
            log.info("scenario %s is the served model's own cohort: not refitted", name)
            continue
        folder = _cohort_under(cohort, name)
        variant = _variant(spec, folder)
        data = ingest(variant, folder.parent)
        own = split(data, variant)  # its rows (``parts`` are the pipeline's)
        X = builder.transform(data.frame)
        refit = CalibratedBooster(**params).fit(X.iloc[own.train], data.y[own.train])
        models[name] = refit.calibrate(X.iloc[own.calibration], data.y[own.calibration])
        log.info(
            "scenario %s: %d training and %d calibration rows (%d events) from %s",
            name, len(own.train), len(own.calibration), int(data.y.sum()), folder,
        )  # fmt: skip
    if not models:
        return None
    return ScenarioModels(served, models, _noise_points(dataset, parts, builder, booster, models))


def _noise_points(
    dataset: Dataset,
    parts: Split,
    builder: FeatureBuilder,
    booster: CalibratedBooster,
    models: dict[str, CalibratedBooster],
) -> float | None:
    """The 90th percentile of the spread between the served model (calibrated here exactly as
    the calibrate step does) and the scenario models over the calibration rows of patients not
    using kratom at entry (``ScenarioModels.noise_points``); None without such rows."""
    rows = dataset.frame.iloc[parts.calibration]
    if "kratom_product" not in rows.columns:
        return None
    X = builder.transform(rows)
    served = copy.copy(booster).calibrate(X, dataset.y[parts.calibration])
    risks = np.vstack([m.predict_proba(X)[:, 1] for m in (served, *models.values())])
    spread = (risks.max(axis=0) - risks.min(axis=0)) * 100
    none = (rows["kratom_product"].astype("string") == "none").fillna(False).to_numpy(dtype=bool)
    if not none.any():
        return None
    return float(np.quantile(spread[none], 0.9))


def _variant(spec: PipelineSpec, folder: Path) -> PipelineSpec:
    """The pipeline reading ``folder`` (never generating it), without the landmark oracle."""
    cohort = spec.cohort.model_copy(update={"path": str(folder), "generate": None})
    changes: dict[str, Any] = {"cohort": cohort}
    if spec.landmarks is not None:
        changes["landmarks"] = spec.landmarks.model_copy(update={"oracle": False})
    return spec.model_copy(update=changes)


def _cohort_under(cohort: Path, scenario: str) -> Path:
    """The pipeline's cohort generated again under ``scenario`` (made once, then reused)."""
    manifest = read_manifest(cohort)
    extra = manifest.extra
    if "partitions" in extra:
        raise ConfigError(
            f"model.scenarios: {cohort} is a partitioned cohort; scenario models regenerate the "
            "cohort in memory and need an unpartitioned one (set model.scenarios to [])"
        )
    try:
        patients, seed = int(str(extra["patients"])), int(str(extra["seed"]))
    except (KeyError, ValueError):
        raise DataContractError(
            f"{cohort / 'cohort.json'}: no patients and seed recorded; model.scenarios needs "
            "them to regenerate the cohort under another scenario"
        ) from None
    folder = scenario_folder(cohort, scenario)
    if (folder / "cohort.json").is_file():
        made = read_manifest(folder).extra
        wanted = {"patients": patients, "seed": seed, "scenario": scenario}
        found = {k: made.get(k) for k in wanted}
        if found != wanted:
            raise ConfigError(
                f"model.scenarios: {folder} holds a cohort made with {found}, the pipeline's "
                f"cohort under scenario {scenario} needs {wanted}; move it away to regenerate it"
            )
        return folder
    from hepatorisk.cohorts.synthetic import generate_cohort
    from hepatorisk.cohorts.synthetic.params import GeneratorConfig, load_generator_config

    config_path = cohort / "generator_config.json"
    try:
        config = GeneratorConfig.model_validate(json.loads(config_path.read_text()))
    except FileNotFoundError:
        config = load_generator_config()
    except (OSError, ValueError, ValidationError) as exc:
        raise DataContractError(
            f"{config_path}: unreadable generator configuration ({exc})"
        ) from None
    log.info("generating the %s-scenario cohort (%d patients, seed %d) into %s",
             scenario, patients, seed, folder)  # fmt: skip
    config = config.model_copy(update={"scenario": scenario})
    generate_cohort(patients, seed=seed, config=config).write(folder)
    return folder
