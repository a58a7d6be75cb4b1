"""Model card and TRIPOD+AI checklist: packaged prose (YAML) joined with the run's facts."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = ["decision_support_statement", "model_card", "tripod_section", "tripod_source"]


@lru_cache(maxsize=4)
def _packaged(name: str) -> dict[str, Any]:
    text = resources.files("hepatorisk.reports").joinpath(name).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def decision_support_statement() -> str:
    return str(_packaged("model_card.yaml")["decision_support"]).strip()


def tripod_source() -> str:
    return str(_packaged("tripod_ai.yaml")["source"])


def _family(outcome: str) -> str:
    return "liver" if outcome.startswith("liver") else "relapse"


def model_card(run: RunArtifacts, meta: dict[str, Any]) -> dict[str, Any]:
    prose = _packaged("model_card.yaml")
    outcome = prose["outcomes"][_family(str(meta["outcome"]))]
    kind = str(meta.get("cohort_kind") or "")
    p = run.params
    split = run.records["split"].value_counts()
    events = (
        run.records.groupby("split")[str(meta["outcome"])].sum()
        if meta["outcome"] in run.records
        else None
    )
    data_rows = [
        {
            "split": name,
            "patients": int(split.get(name, 0)),
            "events": int(events.get(name, 0)) if events is not None else None,
        }
        for name in ("train", "calibration", "test")
    ]
    return {
        "decision_support": decision_support_statement(),
        "intended_use": outcome["intended_use"].strip(),
        "intended_users": prose["intended_users"].strip(),
        "out_of_scope": [s.strip() for s in outcome["out_of_scope"]],
        "outcome_definition": outcome["definition"].strip(),
        "pipeline_description": str(meta.get("description", "")).strip(),
        "provenance": str(prose["cohorts"].get(kind, f"Cohort kind {kind!r}.")).strip(),
        "data": {
            "cohort_kind": kind,
            "cohort_path": p.get("cohort.path"),
            "generated_patients": p.get("cohort.generate.patients"),
            "generator_seed": p.get("cohort.generate.seed"),
            "dataset_digest": meta.get("dataset_digest"),
            "split_seed": p.get("split.seed"),
            "test_size": p.get("split.test_size"),
            "calibration_size": p.get("split.calibration_size"),
            "rows": data_rows,
        },
        "method": {
            "booster_params": p.get("booster_params"),
            "calibration": "logistic recalibration of the booster's log-odds on the calibration "
            f"split (intercept {_num(p.get('calibration_intercept'))}, slope "
            f"{_num(p.get('calibration_slope'))})",
            "baseline": f"spline logistic regression ({p.get('baseline.n_knots')} knots, "
            f"C = {p.get('baseline.C')}) on the train and calibration splits",
            "search_trials": p.get("model.search.trials"),
            "gate": {k.removeprefix("gate."): v for k, v in p.items() if k.startswith("gate.")},
        },
        "ethics": [s.strip() for s in prose["ethics"]],
        "caveats": str(prose["caveats"]["synthetic" if kind == "synthetic" else "real"]).strip(),
    }


def _num(value: object) -> str:
    try:
        return f"{float(str(value)):.3f}"
    except ValueError:
        return "not logged"


def tripod_section(run: RunArtifacts, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Each TRIPOD+AI item with its status for this model's run; honest "not addressed"."""
    checklist = _packaged("tripod_ai.yaml")
    kind = str(meta.get("cohort_kind") or "")
    clustered = run.internal_external is not None and not run.internal_external.empty
    out = []
    for item in checklist["items"]:
        row = {k: item[k] for k in ("id", "topic", "item", "status", "where")}
        row |= item.get("by_cohort", {}).get(kind, {})
        if clustered and "if_internal_external" in item:
            row |= item["if_internal_external"]
        out.append(row)
    return out
