"""Assemble the synthetic cohort: baseline, liver course, weekly screens, outcomes, true risks."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError
from tqdm.auto import tqdm

from hepatorisk.cohorts.manifest import CohortManifest, read_manifest, write_manifest
from hepatorisk.cohorts.synthetic import liver, relapse
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.cohorts.synthetic.population import Baseline, draw_baseline, nafld_posterior
from hepatorisk.cohorts.synthetic.tables import PATIENTS, TABLES
from hepatorisk.contracts import read_table, write_table
from hepatorisk.exceptions import DataContractError

__all__ = ["CHUNK_SIZE", "SyntheticCohort", "generate_cohort", "load_cohort", "true_risks"]

log = logging.getLogger(__name__)
CHUNK_SIZE = 20_000
_LABS = ("alt", "ast", "alp", "bilirubin", "ggt", "albumin", "inr", "platelets")
_LAB_COLUMNS = {
    "alt": "alt_u_l",
    "ast": "ast_u_l",
    "alp": "alp_u_l",
    "bilirubin": "bilirubin_mg_dl",
    "ggt": "ggt_u_l",
    "albumin": "albumin_g_dl",
    "inr": "inr",
    "platelets": "platelets_10e9_l",
}
_ULN_COLUMNS = {
    "alt": "alt_uln_u_l",
    "ast": "ast_uln_u_l",
    "alp": "alp_uln_u_l",
    "bilirubin": "bilirubin_uln_mg_dl",
    "ggt": "ggt_uln_u_l",
}


@dataclass
class SyntheticCohort:
    """The four tables of a synthetic cohort and the configuration that made them."""

    patients: pd.DataFrame
    visits: pd.DataFrame
    outcomes: pd.DataFrame
    latent: pd.DataFrame
    config: GeneratorConfig
    seed: int

    def write(self, directory: Path) -> None:
        """Write every table through its contract, then the manifest and the configuration."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, schema in TABLES.items():
            write_table(getattr(self, name), schema, directory / f"{name}.parquet")
        (directory / "generator_config.json").write_text(
            json.dumps(self.config.model_dump(), indent=2) + "\n"
        )
        write_manifest(
            CohortManifest(
                kind="synthetic",
                tables=list(TABLES),
                outcomes=["liver_event_12w", "relapse_12w", "relapse_24w"],
                feature_sets={"baseline": [c for c in PATIENTS.column_names if c != "patient_id"]},
                extra={
                    "id_column": "patient_id",
                    "patients": len(self.patients),
                    "seed": self.seed,
                    "weeks": self.config.follow_up.weeks,
                },
            ),
            directory,
        )


def load_cohort(directory: Path) -> SyntheticCohort:
    """Read a cohort folder, enforcing every table's contract."""
    manifest = read_manifest(directory)
    if manifest.kind != "synthetic":
        raise DataContractError(f"{directory}: a {manifest.kind!r} cohort, not a synthetic one")
    tables = {name: read_table(directory / f"{name}.parquet", s) for name, s in TABLES.items()}
    config_path = directory / "generator_config.json"
    try:
        config = GeneratorConfig.model_validate_json(config_path.read_text())
    except (OSError, ValidationError) as exc:
        raise DataContractError(
            f"{config_path}: not a generator configuration this version can read "
            f"({str(exc).splitlines()[0]}); regenerate the cohort"
        ) from None
    seed = manifest.extra.get("seed")
    if not isinstance(seed, int):
        raise DataContractError(f"{directory}: cohort.json has no integer 'seed'; regenerate it")
    return SyntheticCohort(**tables, config=config, seed=seed)


def generate_cohort(patients: int, *, seed: int, config: GeneratorConfig) -> SyntheticCohort:
    """Simulate ``patients`` patients; the same seed and configuration give the same cohort."""
    curves = liver.detection_curves(config)
    n_chunks = -(-patients // CHUNK_SIZE)
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    parts = []
    for c in tqdm(range(n_chunks), desc="simulating", unit="chunk", disable=n_chunks < 3):
        start = c * CHUNK_SIZE
        size = min(CHUNK_SIZE, patients - start)
        parts.append(_chunk(np.random.default_rng(seeds[c]), start, size, config, curves))
    tables = {k: pd.concat([p[k] for p in parts], ignore_index=True) for k in parts[0]}
    return SyntheticCohort(**tables, config=config, seed=seed)


def true_risks(
    patients: pd.DataFrame, config: GeneratorConfig, curves: liver.DetectionCurves | None = None
) -> pd.DataFrame:
    """Each patient's true P(liver_event_12w), P(relapse_12w) and P(relapse_24w) given the
    baseline record, from the generator's own mechanism; works on any (edited) patients table."""
    base = Baseline(patients, config)
    fu = config.follow_up
    curves = curves or liver.detection_curves(config)
    survival = liver.liver_survival(base, config, curves)
    horizon = np.searchsorted(curves.lab_weeks, fu.liver_horizon_weeks, side="right") - 1
    p_liver = 1.0 - survival[:, horizon]
    first_detection = -np.diff(np.c_[np.ones(base.n), survival], axis=1)
    stop_pmf = np.zeros((base.n, fu.weeks))
    stop_pmf[:, curves.lab_weeks - 1] = (
        first_detection * config.liver.stop_on_detection_probability * base.kratom_user[:, None]
    )
    p_short, p_long = relapse.relapse_risk(base, stop_pmf, config)
    return pd.DataFrame(
        {"p_liver_true": p_liver, "p_relapse_true": p_short, "p_relapse_24w_true": p_long},
        index=patients.index,
    )


def _chunk(
    rng: np.random.Generator,
    start: int,
    n: int,
    config: GeneratorConfig,
    curves: liver.DetectionCurves,
) -> dict[str, pd.DataFrame]:
    fu = config.follow_up
    patients, nafld = draw_baseline(rng, n, config)
    patients.insert(0, "patient_id", [f"SYN-{i:07d}" for i in range(start + 1, start + n + 1)])
    base = Baseline(patients, config)
    labs = {k: patients[_LAB_COLUMNS[k]].to_numpy(dtype=float) for k in _LABS}
    labs |= {f"{k}_uln": patients[col].to_numpy(dtype=float) for k, col in _ULN_COLUMNS.items()}
    course = liver.simulate_liver(rng, base, nafld, labs, config)
    weeks = np.arange(1, fu.weeks + 1)
    on_kratom = base.kratom_user[:, None] & (weeks[None, :] <= course.stop_week[:, None])
    screens = relapse.simulate_relapse(rng, base, on_kratom, config)
    risks = true_risks(patients, config, curves)

    uln = {k: labs[f"{k}_uln"] for k in _ULN_COLUMNS}
    outcomes = pd.DataFrame(
        {
            "patient_id": patients["patient_id"],
            **liver.outcome_fields(course, uln, config),
            "relapse_12w": screens.relapse_week <= fu.relapse_short_horizon_weeks,
            "relapse_24w": screens.relapse_week <= fu.weeks,
            "p_liver_true": risks["p_liver_true"],
            "p_relapse_true": risks["p_relapse_true"],
        }
    )
    latent = pd.DataFrame(
        {
            "patient_id": patients["patient_id"],
            "nafld": nafld,
            "p_nafld_given_record": nafld_posterior(base, config),
            "liver_susceptibility": course.susceptibility,
            "kratom_reaction": course.reaction,
            "kratom_injury_onset_day": course.injury_onset_day.round(1),
            "background_flare": course.flare,
            "flare_onset_day": course.flare_onset_day.round(1),
            "liver_detection_week": _finite_or_na(course.detection_week),
            "liver_event_cause": course.detection_cause,
            "kratom_stop_week": _finite_or_na(course.stop_week),
            "relapse_frailty": screens.frailty,
            "relapse_week": _finite_or_na(screens.relapse_week),
            "p_relapse_24w_true": risks["p_relapse_24w_true"],
        }
    )
    visits = _visits(rng, patients, base, course, screens, on_kratom, config)
    return {"patients": patients, "visits": visits, "outcomes": outcomes, "latent": latent}


def _visits(
    rng: np.random.Generator,
    patients: pd.DataFrame,
    base: Baseline,
    course: liver.LiverCourse,
    screens: relapse.RelapseCourse,
    on_kratom: np.ndarray,
    config: GeneratorConfig,
) -> pd.DataFrame:
    """One row per patient-week (week 0 = entry), in patient then week order."""
    fu, sym = config.follow_up, config.symptoms
    n, weeks = base.n, fu.weeks + 1
    uds = np.c_[patients["uds_opioid_entry"].astype(str).to_numpy(), screens.uds]
    attended = uds != "missing"
    dose = patients["kratom_dose_g_day"].to_numpy(dtype=float)
    on = np.c_[base.kratom_user, on_kratom]
    reported = (
        dose[:, None]
        * on
        * np.exp(config.kratom.weekly_report_sd_log * rng.standard_normal((n, weeks)))
    )
    cows = np.c_[base.cows_entry, screens.cows]
    craving = np.c_[base.craving_entry, screens.craving]
    injured = course.injury_alt_xuln > 1.0
    symptoms = {
        name: rng.random((n, weeks))
        < np.where(injured, sym.with_injury[name], sym.background[name])
        for name in ("fatigue", "ruq_pain", "nausea")
    }
    frame = {
        "patient_id": np.repeat(patients["patient_id"].to_numpy(dtype=object), weeks),
        "week": np.tile(np.arange(weeks), n),
        "attended": attended.ravel(),
        "uds_opioid": uds.ravel(),
        "kratom_dose_g": np.where(attended, reported.round(2), np.nan).ravel(),
        "cows": pd.array(np.where(attended, cows, np.nan).ravel(), dtype="Float64").astype("Int64"),
        "craving": np.where(attended, craving, np.nan).ravel(),
    }
    lab_cols = np.array([0, *fu.post_baseline_lab_weeks])
    for key in _LABS:
        grid = np.full((n, weeks), np.nan)
        grid[:, lab_cols] = course.labs[key]
        decimals = 2 if key in ("bilirubin", "inr") else 1
        frame[_LAB_COLUMNS[key]] = grid.round(decimals).ravel()
    frame["jaundice"] = (course.bilirubin_mg_dl > sym.jaundice_bilirubin_mg_dl).ravel()
    for name, flags in symptoms.items():
        frame[name] = flags.ravel()
    return pd.DataFrame(frame)


def _finite_or_na(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Whole numbers as an Int64 array, <NA> where ``values`` is not finite."""
    floats = pd.array(np.where(np.isfinite(values), values, np.nan), dtype="Float64")
    return floats.astype(pd.Int64Dtype())
