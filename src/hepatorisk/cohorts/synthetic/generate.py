"""Assemble the synthetic cohort: baseline, arm course, liver course, weekly screens, outcomes,
true risks, and the true effect of setting the kratom dose."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pydantic import ValidationError
from tqdm.auto import tqdm

from hepatorisk.clinical import dili
from hepatorisk.clinical.liver_events import (
    new_onset_elevation,
    prevalent_abnormality,
    severe_elevation,
)
from hepatorisk.cohorts.manifest import CohortManifest, read_manifest, write_manifest
from hepatorisk.cohorts.synthetic import liver, relapse
from hepatorisk.cohorts.synthetic.liver import Intervention, LiverOracle
from hepatorisk.cohorts.synthetic.params import GeneratorConfig
from hepatorisk.cohorts.synthetic.population import (
    Baseline,
    draw_baseline,
    nafld_posterior,
    record_with_gaps,
)
from hepatorisk.cohorts.synthetic.tables import OUTCOME_NAMES, PATIENTS, TABLES, VISITS
from hepatorisk.contracts import read_table, write_part, write_table
from hepatorisk.contracts.partitioned import Part, part_name
from hepatorisk.exceptions import DataContractError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "CHUNK_SIZE",
    "Intervention",
    "SyntheticCohort",
    "generate_cohort",
    "generate_partitioned",
    "load_cohort",
    "true_risks",
]

log = logging.getLogger(__name__)
CHUNK_SIZE = 20_000
_DOSE_MAX = float(VISITS.column("kratom_dose_g").max or np.inf)  # g/day, the visits contract
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
        _write_metadata(directory, self.config, self.seed, len(self.patients))


def _write_metadata(
    directory: Path,
    config: GeneratorConfig,
    seed: int,
    patients: int,
    partitions: dict[str, list[dict[str, object]]] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """The configuration and the manifest (with the parts of a partitioned cohort)."""
    (directory / "generator_config.json").write_text(
        json.dumps(config.model_dump(), indent=2) + "\n"
    )
    extra: dict[str, object] = {
        "id_column": "patient_id",
        "patients": patients,
        "seed": seed,
        "weeks": config.follow_up.weeks,
        "scenario": config.scenario,
    }
    if partitions is not None:
        extra |= {"chunk_size": chunk_size, "partitions": partitions}
    write_manifest(
        CohortManifest(
            kind="synthetic",
            tables=list(TABLES),
            outcomes=list(OUTCOME_NAMES),
            feature_sets={"baseline": [c for c in PATIENTS.column_names if c != "patient_id"]},
            extra=extra,
        ),
        directory,
    )


def load_cohort(directory: Path, part: int | None = None) -> SyntheticCohort:
    """Read a cohort folder, enforcing every table's contract; with ``part``, only that part of
    a partitioned cohort (one chunk: a cohort of its own, from its own seed child)."""
    manifest = read_manifest(directory)
    if manifest.kind != "synthetic":
        raise DataContractError(f"{directory}: a {manifest.kind!r} cohort, not a synthetic one")
    paths = {name: directory / f"{name}.parquet" for name in TABLES}
    if part is not None:
        paths = {name: path / part_name(part) for name, path in paths.items()}
    tables = {name: read_table(paths[name], s) for name, s in TABLES.items()}
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


def generate_cohort(
    patients: int,
    *,
    seed: int,
    config: GeneratorConfig,
    intervention: Intervention | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> SyntheticCohort:
    """Simulate ``patients`` patients; the same seed, configuration (and ``chunk_size``: chunk c
    draws from the c-th child of the seed) give the same cohort.

    With an ``intervention``, the same patients (same seed) live through a set kratom dose: the
    brute-force check of ``true_risks(..., intervention=...)``."""
    parts = [
        _chunk(np.random.default_rng(seed_c), start, size, config, intervention)
        for seed_c, start, size in tqdm(
            _chunks(patients, seed, chunk_size),
            desc="simulating",
            unit="chunk",
            disable=patients < 60_000,
        )
    ]
    tables = {k: pd.concat([p[k] for p in parts], ignore_index=True) for k in parts[0]}
    return SyntheticCohort(**tables, config=config, seed=seed)


def _chunks(
    patients: int, seed: int, chunk_size: int
) -> list[tuple[np.random.SeedSequence, int, int]]:
    """(seed, first row, size) of each chunk: chunk c draws from the c-th child of ``seed``, so
    a chunk is the same wherever and in whatever order it is made."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    n_chunks = -(-patients // chunk_size)
    seeds = np.random.SeedSequence(seed).spawn(n_chunks)
    return [
        (seeds[c], c * chunk_size, min(chunk_size, patients - c * chunk_size))
        for c in range(n_chunks)
    ]


def generate_partitioned(
    patients: int,
    *,
    seed: int,
    config: GeneratorConfig,
    out: Path,
    client: Client | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, list[Part]]:
    """Write the cohort ``generate_cohort`` makes as partitioned Parquet (one part per chunk,
    ``out/TABLE.parquet/part-NNNNN.parquet``), each chunk made and written by one task.

    With a Dask ``client`` the chunks run on its workers (which must see ``out``); without, one
    after another here. Either way no process holds more than one chunk, and the tables, read in
    part order, equal ``generate_cohort``'s for the same seed and configuration."""
    out.mkdir(parents=True, exist_ok=True)
    chunks = _chunks(patients, seed, chunk_size)
    args = [(seed_c, c, start, size, config, out) for c, (seed_c, start, size) in enumerate(chunks)]
    if client is None:
        written = [_write_chunk(*a) for a in tqdm(args, desc="simulating", unit="chunk")]
    else:
        futures = client.map(_write_chunk, *zip(*args, strict=True), pure=False)
        written = client.gather(futures)  # type: ignore[no-untyped-call]
    partitions = {name: [w[name] for w in written] for name in TABLES}
    listing = {k: [p.to_dict() for p in v] for k, v in partitions.items()}
    _write_metadata(out, config, seed, patients, listing, chunk_size)
    return partitions


def _write_chunk(
    seed: np.random.SeedSequence,
    index: int,
    start: int,
    size: int,
    config: GeneratorConfig,
    out: Path,
) -> dict[str, Part]:
    """Make chunk ``index`` and write its part of every table; only the receipts come back."""
    tables = _chunk(np.random.default_rng(seed), start, size, config, None)
    return {
        name: write_part(tables[name], schema, out / f"{name}.parquet", index)
        for name, schema in TABLES.items()
    }


def true_risks(
    patients: pd.DataFrame, config: GeneratorConfig, intervention: Intervention | None = None
) -> pd.DataFrame:
    """Each patient's true risk of each outcome given the baseline record (gaps included), from
    the generator's own mechanism with every latent variable integrated out; works on any
    (edited) patients table. With an ``intervention``, the risk had the dose been set from entry
    on (the true effect of changing the dose). Liver risks are NaN for a prevalent abnormality
    (not at risk for the new-onset outcome)."""
    base = Baseline(patients, config)
    fu = config.follow_up
    oracle = LiverOracle(base, config, intervention)
    enrolled = relapse.enrolled_probability(base, config)
    short, long = relapse.relapse_risk(base, oracle.stop_survival(), config, intervention)
    prevalent = _prevalent(patients)
    return pd.DataFrame(
        {
            "p_liver_true": np.where(
                prevalent, np.nan, oracle.event_risk(fu.liver_horizon_weeks, enrolled)
            ),
            "p_liver_24w_true": np.where(prevalent, np.nan, oracle.event_risk(fu.weeks, enrolled)),
            "p_relapse_true": short,
            "p_relapse_24w_true": long,
        },
        index=patients.index,
    )


def _prevalent(patients: pd.DataFrame) -> np.ndarray:
    values = {t: patients[_LAB_COLUMNS[t]].to_numpy(dtype=float) for t in ("alt", "ast", "alp")}
    ulns = {t: patients[_ULN_COLUMNS[t]].to_numpy(dtype=float) for t in ("alt", "ast", "alp")}
    prevalent: np.ndarray = prevalent_abnormality(values, ulns)
    return prevalent


def _entrants(
    rng: np.random.Generator, n: int, config: GeneratorConfig
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Draw people entering treatment: kratom users whose reaction began before entry are not
    among them (they would have stopped or been seen), so susceptibility is drawn with them."""
    parts, nafld_parts, z_parts, have = [], [], [], 0
    while have < n:
        size = max(n - have, 64) + (n - have) // 20
        complete, nafld = draw_baseline(rng, size, config)
        z = rng.standard_normal(size)
        base = Baseline(complete, config)
        eta = liver.reaction_log_hazard(base, base.mitragynine_mg_day, nafld, config)
        u = np.exp(eta + config.liver.susceptibility_sd * z) * base.kratom_user
        before = liver.latency_cdf(7.0 * base.use_weeks, config)
        keep = rng.random(size) < np.exp(-u * before)
        parts.append(complete[keep])
        nafld_parts.append(nafld[keep])
        z_parts.append(z[keep])
        have += int(keep.sum())
    complete = pd.concat(parts, ignore_index=True).iloc[:n].reset_index(drop=True)
    return complete, np.concatenate(nafld_parts)[:n], np.concatenate(z_parts)[:n]


def _chunk(
    rng: np.random.Generator,
    start: int,
    n: int,
    config: GeneratorConfig,
    intervention: Intervention | None,
) -> dict[str, pd.DataFrame]:
    fu = config.follow_up
    complete, nafld, z = _entrants(rng, n, config)
    ids = [f"SYN-{i:07d}" for i in range(start + 1, start + n + 1)]
    patients = record_with_gaps(rng, complete, config)
    patients.insert(0, "patient_id", ids)
    truth = Baseline(complete, config)
    arm = relapse.simulate_arm(rng, truth, config)
    enrolled = arm.enrolled(fu.weeks)
    labs0 = {k: complete[_LAB_COLUMNS[k]].to_numpy(dtype=float) for k in _LABS}
    labs0 |= {f"{k}_uln": complete[col].to_numpy(dtype=float) for k, col in _ULN_COLUMNS.items()}
    course = liver.simulate_liver(rng, truth, nafld, z, enrolled, labs0, config, intervention)
    weeks = np.arange(1, fu.weeks + 1)
    on_kratom = course_on_kratom(truth, course, weeks, intervention)
    screens = relapse.simulate_relapse(rng, truth, arm, on_kratom, config, intervention)
    risks = true_risks(patients, config, intervention)

    outcomes = pd.DataFrame(
        {
            "patient_id": ids,
            **_liver_outcomes(patients, course, labs0, config),
            "relapse_12w": screens.relapse_week <= fu.relapse_short_horizon_weeks,
            "relapse_24w": screens.relapse_week <= fu.weeks,
            "p_liver_true": risks["p_liver_true"].to_numpy(),
            "p_liver_24w_true": risks["p_liver_24w_true"].to_numpy(),
            "p_relapse_true": risks["p_relapse_true"].to_numpy(),
        }
    )
    latent = pd.DataFrame(
        {
            "patient_id": ids,
            "nafld": nafld,
            "p_nafld_given_record": nafld_posterior(Baseline(patients, config), config),
            "true_injection_drug_use": complete["injection_drug_use"].to_numpy(),
            "true_stable_housing": complete["stable_housing"].to_numpy(),
            "true_employed": complete["employed"].to_numpy(),
            "true_chronic_pain": complete["chronic_pain"].to_numpy(),
            "cows_need": truth.cows_need,
            "craving_need": truth.craving_need,
            "liver_susceptibility": z,
            "kratom_reaction": course.reaction,
            "kratom_injury_onset_day": course.injury_onset_day.round(1),
            "kratom_latency_days": course.latency_days.round(1),
            "kratom_reaction_symptomatic": course.symptomatic,
            "kratom_dose_increase_week": _finite_or_na(course.increase_week),
            "background_flare": course.flare,
            "flare_onset_day": course.flare_onset_day.round(1),
            "liver_detection_week": _finite_or_na(course.detection_week),
            "liver_event_cause": course.detection_cause,
            "kratom_stop_week": _finite_or_na(course.stop_week),
            "induction_failed": arm.induction_failed,
            "dropout_week": _finite_or_na(arm.dropout_week),
            "relapse_frailty": screens.frailty,
            "relapse_week": _finite_or_na(screens.relapse_week),
            "p_relapse_24w_true": risks["p_relapse_24w_true"].to_numpy(),
        }
    )
    visits = _visits(rng, patients, truth, course, screens, on_kratom, config, intervention)
    return {"patients": patients, "visits": visits, "outcomes": outcomes, "latent": latent}


def course_on_kratom(
    base: Baseline,
    course: liver.LiverCourse,
    weeks: np.ndarray,
    intervention: Intervention | None,
) -> np.ndarray:
    """(patients, weeks): kratom taken in week w (1-based), until the week after which it stops."""
    users = base.kratom_user & (intervention is None or intervention.dose_factor > 0)
    on: np.ndarray = users[:, None] & (weeks[None, :] <= course.stop_week[:, None])
    return on


def _liver_outcomes(
    patients: pd.DataFrame,
    course: liver.LiverCourse,
    labs0: dict[str, np.ndarray],
    config: GeneratorConfig,
) -> dict[str, object]:
    """The liver columns of ``outcomes.parquet``, from the draws the patient attended."""
    fu = config.follow_up
    lab_weeks = np.array(fu.post_baseline_lab_weeks)
    post = {k: course.labs[k][:, 1:] for k in ("alt", "ast", "alp", "bilirubin", "inr")}
    uln = {k: labs0[f"{k}_uln"] for k in ("alt", "ast", "alp", "bilirubin")}
    baseline = {k: patients[_LAB_COLUMNS[k]].to_numpy(dtype=float) for k in uln}
    prevalent = _prevalent(patients)
    onset = new_onset_elevation(post, baseline, uln)
    severe = severe_elevation(post, baseline, uln)
    x = {k: post[k] / uln[k][:, None] for k in uln}

    def by(flags: np.ndarray, horizon: int) -> pd.Series:
        hit = np.asarray((flags & (lab_weeks[None, :] <= horizon)).any(axis=1), dtype=bool)
        return pd.Series(hit, dtype="boolean").mask(prevalent)

    first = np.where(onset.any(axis=1), onset.argmax(axis=1), -1)
    rows = np.arange(len(first))
    with np.errstate(invalid="ignore"):
        r_first = dili.r_ratio(x["alt"][rows, first], x["alp"][rows, first])
    r = np.where(first >= 0, r_first, np.nan)
    event_day = np.select(
        [course.detection_cause == "kratom", course.detection_cause == "background_flare"],
        [course.injury_onset_day, course.flare_onset_day],
        default=7.0 * course.detection_week,
    )
    hys = dili.hys_law(x["alt"], x["bilirubin"], x["alp"]) | dili.hys_law(
        x["ast"], x["bilirubin"], x["alp"]
    )
    drawn = np.isfinite(post["alt"]).any(axis=1)

    def peak(values: np.ndarray) -> np.ndarray:
        return np.where(
            drawn, np.nanmax(np.where(np.isnan(values), -np.inf, values), axis=1), np.nan
        )

    return {
        "prevalent_liver_abnormality": prevalent,
        "liver_event_12w": by(onset, fu.liver_horizon_weeks).array,
        "liver_event_24w": by(onset, fu.weeks).array,
        "severe_liver_12w": by(severe, fu.liver_horizon_weeks).array,
        "severe_liver_24w": by(severe, fu.weeks).array,
        "alt_gt3x_uln_12w": (
            (x["alt"] > dili.ALT_EVENT_XULN) & (lab_weeks[None, :] <= fu.liver_horizon_weeks)
        ).any(axis=1),
        "liver_onset_day": np.where(first >= 0, np.round(event_day), np.nan),
        "alt_peak_xuln": peak(x["alt"]),
        "alp_peak_xuln": peak(x["alp"]),
        "bili_peak_xuln": peak(x["bilirubin"]),
        "r_ratio_onset": r,
        "injury_pattern": dili.injury_pattern(r),
        "hys_law": hys.any(axis=1),
    }


def _visits(
    rng: np.random.Generator,
    patients: pd.DataFrame,
    base: Baseline,
    course: liver.LiverCourse,
    screens: relapse.RelapseCourse,
    on_kratom: np.ndarray,
    config: GeneratorConfig,
    intervention: Intervention | None,
) -> pd.DataFrame:
    """One row per patient-week (week 0 = entry), in patient then week order. What happened at
    a missed visit is unknown: its screen is 'missing' and every other value is <NA>."""
    fu, sym = config.follow_up, config.symptoms
    n, weeks = base.n, fu.weeks + 1
    uds = np.c_[patients["uds_opioid_entry"].astype(str).to_numpy(), screens.uds]
    attended = uds != "missing"
    factor = 1.0 if intervention is None else intervention.dose_factor
    week_index = np.arange(weeks)[None, :]
    increased = week_index > course.increase_week[:, None]
    dose = (
        base.dose_g[:, None] * factor * np.where(increased, config.kratom.dose_increase.factor, 1.0)
    )
    on = np.c_[base.kratom_user & (factor > 0), on_kratom]
    reported = (
        dose * on * np.exp(config.kratom.weekly_report_sd_log * rng.standard_normal((n, weeks)))
    )
    cows = np.c_[base.cows_entry, screens.cows]
    craving = np.c_[base.craving_entry, screens.craving]
    injured = course.injury_level > 1.0
    symptoms = {
        name: rng.random((n, weeks))
        < np.where(injured, sym.with_injury[name], sym.background[name])
        for name in ("fatigue", "ruq_pain", "nausea")
    }

    def seen(values: np.ndarray) -> pd.Series:
        flags = pd.Series(np.asarray(values, dtype=bool).ravel(), dtype="boolean")
        return flags.mask(~attended.ravel())

    frame: dict[str, object] = {
        "patient_id": np.repeat(patients["patient_id"].to_numpy(dtype=object), weeks),
        "week": np.tile(np.arange(weeks), n),
        "attended": attended.ravel(),
        "uds_opioid": uds.ravel(),
        # a report beyond the recordable range (a heavy user's increased dose with report noise;
        # once in the first 13.5 million patient-weeks) is recorded at the limit, as a form would
        "kratom_dose_g": np.where(
            attended, np.minimum(reported, _DOSE_MAX).round(2), np.nan
        ).ravel(),
        "cows": pd.array(np.where(attended, cows, np.nan).ravel(), dtype="Float64").astype("Int64"),
        "craving": np.where(attended, craving, np.nan).ravel(),
    }
    lab_cols = np.array([0, *fu.post_baseline_lab_weeks])
    gaps = config.population.missing_at_random
    for key in _LABS:
        grid = np.full((n, weeks), np.nan)
        grid[:, lab_cols] = course.labs[key]
        column = _LAB_COLUMNS[key]
        if column in gaps:  # not ordered at a follow-up draw, as at entry
            grid[:, lab_cols[1:]] = np.where(
                rng.random((n, len(lab_cols) - 1)) < gaps[column], np.nan, grid[:, lab_cols[1:]]
            )
        grid[:, 0] = patients[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        decimals = 2 if key in ("bilirubin", "inr") else 1
        frame[column] = grid.round(decimals).ravel()
    frame["jaundice"] = seen(course.bilirubin_mg_dl > sym.jaundice_bilirubin_mg_dl).array
    for name, flags in symptoms.items():
        frame[name] = seen(flags).array
    return pd.DataFrame(frame)


def _finite_or_na(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """Whole numbers as an Int64 array, <NA> where ``values`` is not finite."""
    floats = pd.array(np.where(np.isfinite(values), values, np.nan), dtype="Float64")
    return floats.astype(pd.Int64Dtype())
