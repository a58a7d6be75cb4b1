"""Model card and TRIPOD+AI checklist: packaged prose (YAML) joined with the run's facts."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from hepatorisk.clinical.ctcae import GRADE_2_ABOVE
from hepatorisk.cohorts.synthetic.tables import OUTCOMES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from hepatorisk.reports.artifacts import RunArtifacts

__all__ = [
    "decision_support_statement",
    "model_card",
    "outcome_definition",
    "tripod_section",
    "tripod_source",
]

# booster parameter -> plain words (the card shows a table, never a raw dictionary)
_BOOSTER_WORDS = {
    "n_estimators": "trees",
    "learning_rate": "learning rate",
    "num_leaves": "leaves per tree",
    "min_child_samples": "minimum patients per leaf",
    "subsample": "share of patients sampled per tree",
    "colsample_bytree": "share of inputs sampled per tree",
    "reg_lambda": "L2 penalty",
    "random_state": "random seed",
}


@lru_cache(maxsize=4)
def _packaged(name: str) -> dict[str, Any]:
    text = resources.files("hepatorisk.reports").joinpath(name).read_text(encoding="utf-8")
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def decision_support_statement(outcome: str = "liver") -> str:
    """The decision-support wording of the outcome's family (liver or relapse)."""
    family = _family(outcome)
    return str(_packaged("model_card.yaml")["outcomes"][family]["decision_support"]).strip()


def outcome_definition(outcome: str, horizon: object) -> str:
    """The outcome in words, from the definitions the cohort itself uses: the synthetic outcome
    table's column description and the CTCAE v5.0 cut-offs of ``clinical``."""
    names = OUTCOMES.column_names
    described = OUTCOMES.column(outcome).description if outcome in names else outcome
    described = described.split("; <NA>")[0]  # the table's missing-value note, not a definition
    if _family(outcome) == "liver":
        g = GRADE_2_ABOVE
        return (
            f"{described[0].upper()}{described[1:]}. Grade >= 2 means ALT or AST above "
            f"{g['alt']:g}x, or ALP above {g['alp']:g}x, the reference: the upper limit of normal "
            "(ULN) when the entry value is normal or unknown, the entry value when it is above "
            "ULN (CTCAE v5.0 abnormal-baseline rule; hepatorisk.clinical.liver_events). Every "
            f"attended protocol draw after entry up to week {horizon} counts; a patient whose "
            "entry ALT, AST or ALP already meets grade 2 has a prevalent abnormality, is not at "
            "risk and is not scored."
        )
    return (
        f"Return to opioid use by week {horizon}: {described} (CTN-0094 / Luo 2023 rule, "
        "clinical-facts.md section 4); a missed screen counts as positive."
    )


def _search(params: dict[str, str]) -> str:
    text = _packaged("model_card.yaml")["search"]
    trials = int(float(params.get("model.search.trials", 0) or 0))
    if trials <= 0:
        return str(text["fixed"]).strip()
    space = ", ".join(
        f"{k.removeprefix('model.search.space.').replace('_', ' ')} {v}"
        for k, v in params.items()
        if k.startswith("model.search.space.")
    )
    folds = params.get("model.search.folds", "?")
    return str(text["ran"]).strip().format(trials=trials, space=space, folds=folds)


def _booster_table(params: dict[str, str]) -> list[dict[str, str]]:
    rows = []
    for key, words in _BOOSTER_WORDS.items():
        value = params.get(f"model.lightgbm.{key}")
        if value is None:
            continue
        number = float(value)
        text = f"{number:.0f}" if number.is_integer() else f"{number:g}"
        rows.append({"parameter": words, "value": text})
    return rows


def facts(run: RunArtifacts, meta: dict[str, Any]) -> dict[str, Any]:
    """The Sendak 2020 model facts label's prose (its numbers are filled in by the template)."""
    prose = _packaged("model_card.yaml")
    outcome = prose["outcomes"][_family(str(meta["outcome"]))]
    label = prose["facts"]
    return {
        "source": label["source"],
        "summary": outcome["summary"].strip(),
        "mechanism": label["mechanism"].strip(),
        "directions": outcome["directions"].strip(),
        "warnings": outcome["warnings"].strip(),
        "inappropriate_settings": label["inappropriate_settings"].strip(),
        "owner": label["owner"].strip(),
        "contact": label["contact"].strip(),
        "report_problems": label["report_problems"].strip(),
    }


def glossary() -> dict[str, str]:
    return {str(k): str(v) for k, v in _packaged("model_card.yaml")["glossary"].items()}


def protected_reasons() -> dict[str, str]:
    reasons = _packaged("model_card.yaml")["protected_inputs"]
    return {str(k): str(v).strip() for k, v in reasons.items()}


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
        "decision_support": decision_support_statement(str(meta["outcome"])),
        "facts": facts(run, meta),
        "glossary": glossary(),
        "intended_use": outcome["intended_use"].strip(),
        "intended_users": prose["intended_users"].strip(),
        "out_of_scope": [s.strip() for s in outcome["out_of_scope"]],
        "outcome_definition": outcome_definition(str(meta["outcome"]), meta.get("horizon_weeks")),
        "pipeline_description": str(meta.get("description", "")).strip(),
        "provenance": str(prose["cohorts"].get(kind, f"Cohort kind {kind!r}.")).strip(),
        "data": {
            "cohort_kind": kind,
            "cohort_path": p.get("cohort.path"),
            "generated_patients": p.get("cohort.generate.patients"),
            "generator_seed": p.get("cohort.generate.seed"),
            "dataset_digest": meta.get("dataset_digest"),
            "scenario": p.get("cohort.scenario", "not recorded"),
            "split_seed": p.get("split.seed"),
            "test_size": p.get("split.test_size"),
            "calibration_size": p.get("split.calibration_size"),
            "rows": data_rows,
        },
        "method": {
            "booster": _booster_table(p),
            **_calibration_and_comparator(run),
            "search": _search(p),
            "gate": _gate(p),
        },
        "ethics": [s.strip() for s in prose["ethics"]],
        "caveats": str(prose["caveats"]["synthetic" if kind == "synthetic" else "real"]).strip(),
    }


# what stands in for a landmark criterion the pipeline left unset (training/gate.py)
_GATE_UNSET = {
    "landmark_min_auroc": "as pooled",
    "landmark_calibration_slope": "as pooled",
    "landmark_min_auroc_vs_oracle": "not checked",
}


def _gate(params: Mapping[str, Any]) -> dict[str, Any]:
    """The gate's criteria as the run logged them; an unset one says what the gate does instead
    (a review board reads words, not ``None``)."""
    gate = {k.removeprefix("gate."): v for k, v in params.items() if k.startswith("gate.")}
    return {k: _GATE_UNSET.get(k, "not set") if v in (None, "None") else v for k, v in gate.items()}


def _calibration_and_comparator(run: RunArtifacts) -> dict[str, str]:
    """How the booster's log-odds were calibrated and what the model is compared with: the
    training run's calibration split and baseline, or a recalibration's local fit and parent."""
    p = run.params
    now = (
        f"intercept {_num(p.get('calibration_intercept'))}, "
        f"slope {_num(p.get('calibration_slope'))}"
    )
    local = run.local_evaluation
    if local:
        return {
            "calibration": f"the parent's ({local.get('parent')}) calibration composed with a "
            f"logistic recalibration ({p.get('recalibration.method')}) fitted on "
            f"{local.get('fit_rows')} local rows (the composed map of the booster's log-odds: "
            f"{now})",
            "baseline": f"the parent version {local.get('parent')} on the same local held-out "
            "rows (no spline baseline is fitted for a recalibration)",
        }
    return {
        "calibration": f"logistic recalibration of the booster's log-odds on the calibration "
        f"split ({now})",
        "baseline": f"spline logistic regression ({p.get('baseline.n_knots')} knots, "
        f"C = {p.get('baseline.C')}) on the train and calibration splits",
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
