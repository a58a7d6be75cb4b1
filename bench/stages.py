"""Per-stage profile of /v1/assess: where one request's time goes, and a batch's (issue 20).

Runs the route's own sequence on the route's own objects, in process: the app is started with a
test client (models loaded, audit log and monitoring store open), then each measured request is

1. parse: the body's bytes read by ``web.json_body.load_json`` (what ``JsonBodyRoute`` calls);
2. validate: the envelope validated (``AssessRequest`` / ``BatchRequest``) and turned into the
   core's ``PatientInput`` (``to_input``);
3. the core's ``assessment.audited._assess`` (``assess`` and the audit entries), with the library
   functions it calls wrapped by timers: each stage's time is its own (exclusive of the other
   wrapped stages it calls); ``reach`` and the ensemble members' scoring include everything they
   call;
4. audit write: the entries handed to the audit writer and committed (``AuditLog.submit``);
5. monitoring write: the metrics observer and the monitoring records (the service's sink);
6. response encode: ``dataclass_response`` of the response envelope.

The medians of each stage over the repetitions are printed in milliseconds with their share of
the total. For one patient the same body is also posted through the test client (HTTP framing,
routing, authentication and dependencies on top; a test client, not a server measurement).

Models: the synthetic pipelines' own, trained on the sample (``bench/models.py``: landmarks, the
10-member uncertainty ensemble, the scenario models), or exported bundles: ``--liver DIR
--relapse DIR``. The request: the README's mid-treatment example (``bench/service.py``'s
``body``); a batch repeats it with ages varied. Run: ``make bench-stages``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
import time
import uuid
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "service")]
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from service_support import AUTH, make_settings, running

from hepatorisk.assessment.context import AssessmentContext  # noqa: E402
from hepatorisk.assessment.request import AssessRequest  # noqa: E402
from hepatorisk.modeling.bundle import ModelBundle  # noqa: E402
from hepatorisk.modeling.estimators import CalibratedBooster  # noqa: E402
from hepatorisk.modeling.features import FeatureBuilder  # noqa: E402
from hepatorisk.modeling.uncertainty import Ensemble  # noqa: E402
from hepatorisk.modeling.unknowns import PlausibleValues  # noqa: E402
from hepatorisk.service.responses import (  # noqa: E402
    AssessResponse,
    BatchResponse,
    dataclass_response,
)
from hepatorisk.service.schemas import BatchRequest  # noqa: E402
from hepatorisk.web.json_body import load_json  # noqa: E402
from hepatorisk.web.monitoring import monitored  # noqa: E402
from models import pipeline_models  # noqa: E402
from service import body  # noqa: E402

# the package exports a function named ``assess``: the modules themselves
assess_module = importlib.import_module("hepatorisk.assessment.assess")
audited = importlib.import_module("hepatorisk.assessment.audited")

PARSE, VALIDATE, FEATURES = "parse", "validate", "features"
MODELS, EXPLAIN, COMPLETE = "models (score)", "explain", "unknown completion"
REACH, RANGE, WHAT_IF = "reach (+ unknown-input text)", "range (predict_interval)", "what-ifs"
RULES, DRIVERS, REST = "rules, flags, monitoring schedule", "drivers", "assembly (rest of assess)"
AUDIT, MONITOR, ENCODE = "audit write", "monitoring write", "response encode"
SCENARIOS = "scenario answers"
ORDER = [PARSE, VALIDATE, FEATURES, COMPLETE, MODELS, EXPLAIN, REACH, RANGE, SCENARIOS, WHAT_IF,
         RULES, DRIVERS, REST, AUDIT, MONITOR, ENCODE]  # fmt: skip

# (owner, attribute, stage, rolls up: everything it calls counts as its own)
WRAPPED: list[tuple[Any, str, str, bool]] = [
    (AssessRequest, "to_input", VALIDATE, False),
    (assess_module, "record_columns", FEATURES, False),
    (FeatureBuilder, "arrays", FEATURES, False),
    (FeatureBuilder, "matrix", FEATURES, False),
    (FeatureBuilder, "transform", FEATURES, False),
    (PlausibleValues, "complete", COMPLETE, False),
    (ModelBundle, "complete", COMPLETE, False),
    (CalibratedBooster, "predict_proba", MODELS, False),
    (ModelBundle, "predict_proba", MODELS, False),
    (CalibratedBooster, "contributions", EXPLAIN, False),
    (ModelBundle, "explain_matrix", EXPLAIN, False),
    (ModelBundle, "_explain_completed", EXPLAIN, False),
    (ModelBundle, "explain_then_predict", EXPLAIN, False),
    (ModelBundle, "scored", EXPLAIN, False),  # one completion per request (when present)
    (ModelBundle, "reach", REACH, True),
    (ModelBundle, "unknown_fields", REACH, False),
    (assess_module, "unknown_inputs", REACH, False),
    (ModelBundle, "predict_interval", RANGE, False),
    (ModelBundle, "served_and_members", RANGE, False),
    (Ensemble, "member_probabilities", RANGE, True),
    (Ensemble, "interval", RANGE, False),
    (ModelBundle, "_scenario_probabilities_of", SCENARIOS, False),
    (assess_module, "dose_scenarios", WHAT_IF, False),
    (assess_module, "benefit_harm", WHAT_IF, False),
    (assess_module, "what_if_note", WHAT_IF, False),
    (assess_module, "guideline_flags", RULES, False),
    (assess_module, "monitoring_schedule", RULES, False),
    (assess_module, "elevated_aminotransferase", RULES, False),
    (assess_module, "top_drivers", DRIVERS, False),
    (assess_module, "assess", REST, False),
    (audited, "assess", REST, False),
    (audited, "_entry", AUDIT, False),
]


class Timer:
    """Exclusive time per stage of the wrapped functions (a call's time less its wrapped
    callees'), and a rolled-up stage's callees counted as its own."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = defaultdict(float)
        self._stack: list[float] = []
        self._rolled = 0

    def wrap(self, f: Callable[..., Any], stage: str, rolls_up: bool) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._rolled:
                return f(*args, **kwargs)
            self._rolled += rolls_up
            self._stack.append(0.0)
            t = time.perf_counter()
            try:
                return f(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t
                self._rolled -= rolls_up
                inner = self._stack.pop()
                self.spent[stage] += dt - inner
                if self._stack:
                    self._stack[-1] += dt

        return timed

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        self._stack.append(0.0)
        t = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t
            self.spent[name] += dt - self._stack.pop()
            if self._stack:
                self._stack[-1] += dt


@contextmanager
def instrumented(timer: Timer) -> Iterator[None]:
    saved = []
    for owner, name, stage, rolls_up in WRAPPED:
        original = owner.__dict__.get(name) if isinstance(owner, type) else getattr(owner, name)
        if original is None:
            continue  # this version of the code has no such function
        saved.append((owner, name, original))
        setattr(owner, name, timer.wrap(original, stage, rolls_up))
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def one_request(ctx: AssessmentContext, raw: bytes, batch: bool, timer: Timer) -> None:
    """The route's sequence (``service.routes.assess`` through ``assessment.audited``)."""
    with timer.stage(PARSE):
        body = load_json(raw)
    with timer.stage(VALIDATE):
        requests = (
            BatchRequest.model_validate(body).patients
            if batch
            else [AssessRequest.model_validate(body)]
        )
    results, entries = audited._assess(ctx, requests, True)
    with timer.stage(AUDIT):
        versions = ctx.models.versions()
        endpoint = "assess/batch" if batch else "assess"
        ctx.audit.submit(ctx.request_id, endpoint, ctx.caller, versions, entries).result()
    with timer.stage(MONITOR):
        for a in results:
            ctx.observe(a.risks)
        ctx.monitor(ctx.request_id, requests, [a.risks for a in results])
    with timer.stage(ENCODE):
        if batch:
            envelope: Any = BatchResponse(
                request_id=ctx.request_id, count=len(results), assessments=results
            )
        else:
            envelope = AssessResponse(**vars(results[0]), request_id=ctx.request_id)
        dataclass_response(envelope)


def profile(ctx: AssessmentContext, raw: bytes, batch: bool, repeat: int) -> dict[str, list[float]]:
    """Milliseconds per stage, one list entry per repetition (after one warm-up)."""
    per_stage: dict[str, list[float]] = defaultdict(list)
    for k in range(repeat + 1):
        timer = Timer()
        with instrumented(timer):
            one_request(replace(ctx, request_id=f"stages-{uuid.uuid4().hex}"), raw, batch, timer)
        if k:
            for stage in ORDER:
                per_stage[stage].append(timer.spent.get(stage, 0.0) * 1000)
            per_stage["total"].append(sum(timer.spent.values()) * 1000)
    return per_stage


def table(results: dict[str, dict[str, list[float]]]) -> str:
    names = list(results)
    med = {n: {s: statistics.median(v) for s, v in r.items()} for n, r in results.items()}
    head = f"{'stage':<36}" + "".join(f"{n:>22}" for n in names)
    lines = [head, "-" * len(head)]
    for stage in ORDER:
        cells = []
        for n in names:
            total = sum(med[n][s] for s in ORDER)
            ms = med[n][stage]
            cells.append(f"{ms:>12.3f} ms {ms / total:>5.1%}")
        lines.append(f"{stage:<36}" + "".join(cells))
    lines.append("-" * len(head))
    sums = "".join(f"{sum(med[n][s] for s in ORDER):>12.3f} ms {'':>6}" for n in names)
    lines.append(f"{'sum of stage medians':<36}" + sums)
    totals = "".join(f"{med[n]['total']:>12.3f} ms {'':>6}" for n in names)
    lines.append(f"{'median total':<36}" + totals)
    return "\n".join(lines)


def models(args: argparse.Namespace, root: Path) -> dict[str, Path]:
    """Exported bundles given, or the synthetic pipelines' own models on the sample
    (``bench/models.py``: landmarks, the 10-member ensemble, the scenario models)."""
    if args.liver and args.relapse:
        return {"liver": Path(args.liver), "relapse": Path(args.relapse)}
    return pipeline_models()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--liver", help="exported liver model (default: bench/models.py)")
    parser.add_argument("--relapse", help="exported relapse model (default: bench/models.py)")
    parser.add_argument("--repeat", type=int, default=40, help="repetitions of one patient")
    parser.add_argument(
        "--batches",
        type=lambda text: [int(n) for n in text.split(",") if n],
        default=[100, 1000],
        help="batch sizes, comma-separated (default 100,1000; at most 1,000: the API's limit)",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="hepatorisk-stages-"))
    t = time.perf_counter()
    dirs = models(args, root)
    print(f"models ready in {time.perf_counter() - t:.0f} s: --liver {dirs['liver']} "
          f"--relapse {dirs['relapse']}", file=sys.stderr)  # fmt: skip
    settings = make_settings(dirs, root).model_copy(
        update={"monitoring_db_url": f"sqlite:///{root / 'monitoring.db'}"}
    )
    one = body()
    many = {n: {"patients": [{**one, "demographics": {**one["demographics"], "age": 18 + i % 60}}
                             for i in range(n)]} for n in args.batches}  # fmt: skip
    with running(settings) as client:
        state = client.app.state.service  # type: ignore[attr-defined]
        pair = state.store.current
        ctx = AssessmentContext(
            request_id="stages",
            caller="bench",
            models=pair,
            audit=state.audit,
            policy=state.policy,
            top_drivers=state.settings.top_drivers,
            observe=state.metrics.count_predictions,
            **monitored(state, pair),
        )
        results = {
            "1 patient": profile(ctx, json.dumps(one).encode(), False, args.repeat),
        }
        for n in args.batches:  # 5 repetitions of a batch up to 100 patients, 3 of a larger one
            raw = json.dumps(many[n]).encode()
            results[f"{n:,} patients"] = profile(ctx, raw, True, 5 if n <= 100 else 3)
        for _ in range(5):
            client.post("/v1/assess", json=one, headers=AUTH).raise_for_status()
        posted = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            client.post("/v1/assess", json=one, headers=AUTH).raise_for_status()
            posted.append((time.perf_counter() - t) * 1000)
    ensemble = pair.liver.bundle.ensemble
    print(f"ensemble members: {len(ensemble.members) if ensemble else 0}; "
          f"medians of {args.repeat} repetitions (1 patient), 5 (batches up to 100), "
          "3 (larger)")  # fmt: skip
    print(table(results))
    single = statistics.median(results["1 patient"]["total"])
    posted_ms = statistics.median(posted)
    print(f"\n/v1/assess through the test client, measured after the stages: median "
          f"{posted_ms:.3f} ms (the stages in process: {single:.3f} ms); on a quiet machine the "
          "difference is HTTP framing, routing, authentication, dependencies and the test "
          "client itself, on a loaded one mostly noise")  # fmt: skip
    for n, r in results.items():
        if n != "1 patient":
            k = int(n.split()[0].replace(",", ""))
            print(f"{n}: {k / statistics.median(r['total']) * 1000:,.0f} explained patients/s "
                  "in process (no HTTP)")  # fmt: skip


if __name__ == "__main__":
    main()
