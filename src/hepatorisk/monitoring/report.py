"""One monitoring window of one model: drift, estimated and realised performance, as JSON and
as one self-contained HTML page (inline style, no external request, like the review-board
report)."""

from __future__ import annotations

import html
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hepatorisk.clinical.monitoring import Policy, risk_band
from hepatorisk.modeling.bundle import ModelBundle
from hepatorisk.monitoring import drift, performance
from hepatorisk.monitoring.thresholds import MonitoringSpec

__all__ = ["Window", "gauge_values", "monitor", "policy_outcome", "window_from_records",
           "window_from_store", "write_report"]  # fmt: skip


@dataclass(frozen=True)
class Window:
    """What was served in a window: the model's inputs, probabilities, bands, outcomes known
    (NaN: not yet) and each row's ISO week."""

    arrays: dict[str, np.ndarray]
    probability: np.ndarray
    bands: list[str]
    observed: np.ndarray
    weeks: list[str]
    label: str


def policy_outcome(bundle: ModelBundle) -> str:
    """Which of the policy's band sets a model's outcome uses (liver or relapse)."""
    return "liver" if "liver" in str(bundle.metadata.get("outcome", "")) else "relapse"


def window_from_records(
    bundle: ModelBundle,
    records: pd.DataFrame,
    policy: Policy,
    outcome: str | None,
    label: str,
) -> Window:
    """A window from a table of patient records (the model scores them here); ``outcome`` names
    a 0/1 column of outcomes when they are known."""
    p = bundle.predict_proba(records)
    cuts = policy.bands[policy_outcome(bundle)]
    observed = (
        pd.to_numeric(records[outcome], errors="coerce").to_numpy(dtype=float)
        if outcome is not None
        else np.full(len(records), np.nan)
    )
    weeks = records["week"].astype(str).tolist() if "week" in records else ["n/a"] * len(p)
    return Window(
        bundle.features.arrays(records),
        p,
        [risk_band(float(x), cuts) for x in p],
        observed,
        weeks,
        label,
    )


def window_from_store(bundle: ModelBundle, frame: pd.DataFrame, label: str) -> Window:
    """A window from the monitoring store's rows (``MonitoringStore.window``)."""
    features = pd.DataFrame(list(frame["features"])) if len(frame) else pd.DataFrame()
    for col in bundle.input_columns:
        if col not in features:
            features[col] = None
    return Window(
        bundle.features.arrays(features),
        frame["probability"].to_numpy(dtype=float),
        frame["band"].astype(str).tolist(),
        frame["observed"].to_numpy(dtype=float),
        frame["week"].astype(str).tolist(),
        label,
    )


def _interval(i: Any) -> dict[str, float]:
    return {"estimate": i.estimate, "lo": i.lo, "hi": i.hi}


def monitor(bundle: ModelBundle, window: Window, spec: MonitoringSpec) -> dict[str, Any]:
    """Everything the monitor reports for one window, with its flags."""
    features, source = drift.input_drift(bundle, window.arrays, spec)
    predictions = drift.prediction_drift(bundle, window.probability, spec)
    estimated = performance.estimate_performance(window.probability)
    test = bundle.metadata.get("test_metrics") or {}
    test_auroc = test.get("test_auroc", test.get("auroc"))
    flags: list[str] = []
    flagged = [f.column for f in features if f.status == "flag"]
    if flagged:
        flags.append(f"input drift: {', '.join(flagged)}")
    if predictions.status == "flag":
        flags.append(f"prediction drift: {predictions.reason}")
    if isinstance(test_auroc, float) and estimated.auroc < test_auroc - spec.auroc_drop:
        flags.append(
            f"estimated AUROC {estimated.auroc:.3f} is more than {spec.auroc_drop} below the "
            f"test AUROC {test_auroc:.3f}"
        )
    known = ~np.isnan(window.observed)
    out: dict[str, Any] = {
        "window": window.label,
        "model": {
            "name": bundle.metadata.get("registered_model"),
            "outcome": bundle.metadata.get("outcome"),
            "test_auroc": test_auroc,
            "recalibrations": len(bundle.metadata.get("recalibrations", [])),
        },
        "n": len(window.probability),
        "weeks": sorted(set(window.weeks)),
        "reference": source,
        "thresholds": spec.model_dump(mode="json"),
        "input_drift": [asdict(f) for f in features],
        "prediction_drift": asdict(predictions),
        "band_shares": drift.band_shares(window.bands),
        "estimated": asdict(estimated),
        "outcomes_known": int(known.sum()),
    }
    out["estimated_awaiting"] = None
    if spec.min_outcomes <= known.sum() < len(known):  # outcomes coming in: recalibrated estimate
        awaiting = performance.estimate_awaiting(window.probability, window.observed)
        out["estimated_awaiting"] = asdict(awaiting) if awaiting is not None else None
    if known.sum() >= spec.min_outcomes:
        y = window.observed[known].astype(int)
        p = window.probability[known]
        if 0 < y.sum() < len(y):
            real = performance.realised(y, p)
            on_known = performance.estimate_performance(p)
            out["realised"] = {
                "n": real.n,
                "events": real.events,
                "expected_events": real.expected_events,
                "oe_ratio": real.oe_ratio,
                "oe_lo": real.oe_lo,
                "oe_hi": real.oe_hi,
                "auroc": _interval(real.auroc),
                "brier": _interval(real.brier),
                "cal_slope": _interval(real.cal_slope),
                "cal_intercept": _interval(real.cal_intercept),
                "estimated_auroc_same_rows": on_known.auroc,
                "estimated_auroc_same_rows_lo": on_known.auroc_lo,
                "estimated_auroc_same_rows_hi": on_known.auroc_hi,
                "estimate_error": on_known.auroc - real.auroc.estimate,
                # the label-free estimate's assumption (calibration holds here) survives the
                # outcomes when the realised AUROC lies in the range it implied
                "estimate_in_range": bool(
                    on_known.auroc_lo <= real.auroc.estimate <= on_known.auroc_hi
                ),
            }
            if not out["realised"]["estimate_in_range"]:
                flags.append(
                    f"the AUROC estimated before outcomes assumed calibration, which does not "
                    f"hold here: realised {real.auroc.estimate:.3f} lies outside the "
                    f"{on_known.auroc_lo:.3f}-{on_known.auroc_hi:.3f} a calibrated model would "
                    f"show on these rows (estimated {on_known.auroc:.3f})"
                )
            ci = real.cal_intercept
            if abs(ci.estimate) >= spec.intercept_flag and not ci.lo <= 0 <= ci.hi:
                flags.append(
                    f"miscalibrated: intercept {ci.estimate:+.2f} [{ci.lo:+.2f}, {ci.hi:+.2f}], "
                    f"observed/expected {real.oe_ratio:.2f}"
                )
            if isinstance(test_auroc, float) and real.auroc.estimate < test_auroc - spec.auroc_drop:
                flags.append(
                    f"realised AUROC {real.auroc.estimate:.3f} is more than {spec.auroc_drop} "
                    f"below the test AUROC {test_auroc:.3f}"
                )
    else:
        out["realised"] = None
        out["realised_note"] = (
            f"{int(known.sum())} outcomes known; realised performance needs {spec.min_outcomes}"
        )
    out["flags"] = flags
    out["drift_flagged"] = bool(flagged) or predictions.status == "flag"
    return out


def _awaiting_html(a: dict[str, Any] | None) -> str:
    if not a:
        return ""
    return (
        f"<p>Rows still awaiting their outcome ({a['n']}): expected AUROC {_f(a['auroc'])} "
        f"[{_f(a['auroc_lo'])}, {_f(a['auroc_hi'])}] after a logistic recalibration (intercept "
        "and slope) fitted on the rows whose outcome is known; the interval covers the refit "
        "and the outcomes still to come.</p>"
    )


def gauge_values(result: dict[str, Any]) -> dict[str, float]:
    """The latest values the service exposes as Prometheus gauges."""
    values = {
        "max_input_psi": max((f["psi"] for f in result["input_drift"]), default=0.0),
        "inputs_flagged": float(sum(f["status"] == "flag" for f in result["input_drift"])),
        "prediction_psi": result["prediction_drift"]["psi"] or math.nan,
        "mean_probability": result["prediction_drift"]["mean_now"],
        "estimated_auroc": result["estimated"]["auroc"],
        "records": float(result["n"]),
        "outcomes_known": float(result["outcomes_known"]),
    }
    if result.get("estimated_awaiting"):
        values["estimated_auroc_awaiting"] = result["estimated_awaiting"]["auroc"]
    if result.get("realised"):
        r = result["realised"]
        values |= {
            "realised_auroc": r["auroc"]["estimate"],
            "oe_ratio": r["oe_ratio"],
            "cal_intercept": r["cal_intercept"]["estimate"],
            "cal_slope": r["cal_slope"]["estimate"],
        }
    return values


def write_report(result: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """``monitor.json`` and ``monitor.html`` in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / "monitor.json"
    json_path.write_text(json.dumps(result, indent=2, default=_jsonable))
    html_path = out / "monitor.html"
    html_path.write_text(render_html(result))
    return json_path, html_path


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to monitor.json")


def _f(value: Any, spec: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return format(value, spec)


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60em;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.25em .6em;"
    "text-align:right}th{background:#f3f3f3}td:first-child{text-align:left}"
    ".flag{color:#a00;font-weight:bold}.warn{color:#a60}.note{color:#555;font-size:.9em}"
)


def render_html(r: dict[str, Any]) -> str:
    """The report as one HTML page with everything inline."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(f['column'])}</td><td>{e(f['kind'])}</td><td>{_f(f['psi'], '.3f')}</td>"
        f"<td>{_f(f['missing_reference'], '.1%')}</td><td>{_f(f['missing_now'], '.1%')}</td>"
        f"<td class='{e(f['status'])}'>{e(f['reason'])}</td></tr>"
        for f in r["input_drift"]
    )
    bands = "".join(
        f"<tr><td>{e(k)}</td><td>{_f(v, '.1%')}</td></tr>" for k, v in r["band_shares"].items()
    )
    flags = "".join(f"<li class='flag'>{e(x)}</li>" for x in r["flags"]) or "<li>none</li>"
    est = r["estimated"]
    pred = r["prediction_drift"]
    realised = "<p>" + e(r.get("realised_note", "")) + "</p>"
    if r.get("realised"):
        q = r["realised"]

        def ci(k: str, spec: str = ".3f") -> str:
            i = q[k]
            return f"{_f(i['estimate'], spec)} [{_f(i['lo'], spec)}, {_f(i['hi'], spec)}]"

        realised = (
            "<table><tr><th>measure</th><th>value [95% CI]</th></tr>"
            f"<tr><td>outcomes known (events)</td><td>{q['n']} ({q['events']})</td></tr>"
            f"<tr><td>observed / expected events</td><td>{q['events']} / "
            f"{_f(q['expected_events'], '.1f')} = {_f(q['oe_ratio'], '.2f')} "
            f"[{_f(q['oe_lo'], '.2f')}, {_f(q['oe_hi'], '.2f')}]</td></tr>"
            f"<tr><td>AUROC</td><td>{ci('auroc')}</td></tr>"
            f"<tr><td>estimated AUROC on the same rows (a calibrated model's range)</td>"
            f"<td>{_f(q['estimated_auroc_same_rows'])} "
            f"[{_f(q.get('estimated_auroc_same_rows_lo'))}, "
            f"{_f(q.get('estimated_auroc_same_rows_hi'))}]</td></tr>"
            f"<tr><td>calibration intercept</td><td>{ci('cal_intercept', '+.2f')}</td></tr>"
            f"<tr><td>calibration slope</td><td>{ci('cal_slope', '.2f')}</td></tr>"
            f"<tr><td>Brier score</td><td>{ci('brier', '.4f')}</td></tr></table>"
        )
    model = r["model"]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>hepatorisk monitor: {e(str(model['name']))}</title><style>{_STYLE}</style>"
        "</head><body>"
        f"<h1>Monitoring: {e(str(model['name']))}</h1>"
        f"<p>{e(r['window'])}: {r['n']} assessments, weeks {e(', '.join(r['weeks'][:3]))}"
        f"{' ... ' + e(r['weeks'][-1]) if len(r['weeks']) > 3 else ''}. Reference: "
        f"{e(r['reference'])}. Test AUROC at training: {_f(model['test_auroc'])}.</p>"
        "<p class='note'>Decision support only: these are statistics about the model, not about "
        "any patient.</p>"
        f"<h2>Flags</h2><ul>{flags}</ul>"
        "<h2>Performance before outcomes (confidence-based estimate)</h2>"
        f"<p>Expected AUROC {_f(est['auroc'])} (a calibrated model would show "
        f"{_f(est['auroc_lo'])}-{_f(est['auroc_hi'])} here); expected events "
        f"{_f(est['expected_events'], '.1f')} &plusmn; {_f(est['expected_events_sd'], '.1f')}. "
        "The estimate assumes the probabilities are calibrated in this population.</p>"
        f"{_awaiting_html(r.get('estimated_awaiting'))}"
        f"<h2>Performance once outcomes are in</h2>{realised}"
        "<h2>Prediction drift</h2>"
        f"<p class='{e(pred['status'])}'>{e(pred['reason'])}</p>"
        f"<h2>Risk bands</h2><table><tr><th>band</th><th>share</th></tr>{bands}</table>"
        "<h2>Input drift (PSI over the reference's decile or level bins, missing as a bin)</h2>"
        "<table><tr><th>input</th><th>kind</th><th>PSI</th><th>missing (reference)</th>"
        f"<th>missing (now)</th><th>status</th></tr>{rows}</table>"
        "</body></html>"
    )
