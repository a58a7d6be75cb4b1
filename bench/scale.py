"""Scale-out benchmark: partitioned generation and streamed scoring, on one process and on Dask.

Measured in one run, each step in a fresh process or a fresh LocalCluster (so that each peak
memory is that step's own; peak = the process's maximum resident set size):

* ``cohort generate`` of ``--patients`` (default 2,000,000) x 24 weeks on a LocalCluster of 2
  single-threaded workers: seconds and the peak memory of each worker;
* the scaling of generation from 1 to 2 workers on ``--scaling-patients`` (ratios);
* stream-scoring ``--score-rows`` records with exact explanations (the first parts of that
  cohort's patients table; repeated when more rows are asked than were generated): one process
  (``hepatorisk predict --explain``, its peak memory), and on LocalClusters of 1 and 2 workers
  (rows per second, peak memory per worker, the 1 -> 2 ratio).

The model is the liver model with the synthetic pipeline's LightGBM settings, trained on the
committed sample (``_models``). Run: ``make bench-scale``; results:
``bench/results/scale.json``. On a shared 2-core machine the scaling and scoring sizes are
reduced (default 80,000 each, four parts); ``--score-rows 10000000`` runs the full size
(``--cluster-rows`` scores fewer rows on the clusters, the first parts of the same input);
``--only STEP`` runs one step and merges its figures into the results.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "service")]
from service_support import SAMPLE, export  # noqa: E402

from hepatorisk.cluster import dask_client  # noqa: E402
from hepatorisk.cohorts.synthetic import load_generator_config  # noqa: E402
from hepatorisk.cohorts.synthetic.generate import generate_partitioned  # noqa: E402
from hepatorisk.contracts.partitioned import part_files, part_name  # noqa: E402
from hepatorisk.training.distributed_scoring import score_partitioned  # noqa: E402
from hepatorisk.training.scoring import BATCH_ROWS  # noqa: E402

RESULTS = ROOT / "bench" / "results"
BIN = Path(sys.executable).parent
GIB = 1024**3


def _peak_rss() -> int:
    """This process's peak resident memory, bytes (run on each worker through ``client.run``)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _gib(values: list[int]) -> list[float]:
    return [round(v / GIB, 3) for v in values]


def _generate(patients: int, workers: int, out: Path) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    config = load_generator_config()
    with dask_client("local", workers) as client:
        started = time.perf_counter()
        generate_partitioned(patients, seed=7, config=config, out=out, client=client)
        seconds = time.perf_counter() - started
        peaks = list(client.run(_peak_rss).values())
    return {
        "patients": patients,
        "weeks": config.follow_up.weeks,
        "workers": workers,
        "seconds": round(seconds, 1),
        "patients_per_s": round(patients / seconds),
        "peak_gib_per_worker": _gib(peaks),
    }


def _score_input(cohort: Path, rows: int, folder: Path) -> int:
    """A folder of links to the cohort's patients parts, repeated until ``rows`` are reached."""
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    parts = part_files(cohort / "patients.parquet")
    import pyarrow.parquet as pq

    sizes = [pq.ParquetFile(p).metadata.num_rows for p in parts]
    total, i = 0, 0
    while total < rows:
        (folder / part_name(i)).symlink_to(parts[i % len(parts)].resolve())
        total += sizes[i % len(parts)]
        i += 1
    return total


def _score_one_process(model: Path, source: Path, out: Path) -> dict[str, Any]:
    cmd = [str(BIN / "hepatorisk"), "predict", str(model), "--input", str(source),
           "--out", str(out), "--explain"]  # fmt: skip
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(cmd)} failed")
    rows = pq_rows(out)
    return {"rows": rows, "seconds": round(seconds, 1), "rows_per_s": round(rows / seconds),
            "peak_gib": round(usage.ru_maxrss * 1024 / GIB, 3)}  # fmt: skip


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    files = part_files(path) if path.is_dir() else [path]
    return sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def _score_cluster(model: Path, source: Path, out: Path, workers: int) -> dict[str, Any]:
    shutil.rmtree(out, ignore_errors=True)
    with dask_client("local", workers) as client:
        started = time.perf_counter()
        rows = score_partitioned(str(model), source, out, client, explain=True)
        seconds = time.perf_counter() - started
        peaks = list(client.run(_peak_rss).values())
    return {"rows": rows, "workers": workers, "seconds": round(seconds, 1),
            "rows_per_s": round(rows / seconds), "peak_gib_per_worker": _gib(peaks)}  # fmt: skip


STEPS = ("generate", "scaling", "score")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=2_000_000)
    parser.add_argument("--scaling-patients", type=int, default=80_000)
    parser.add_argument("--score-rows", type=int, default=80_000)
    parser.add_argument(
        "--cluster-rows",
        type=int,
        default=None,
        help="rows the LocalClusters score (default: --score-rows)",
    )
    parser.add_argument("--work", type=Path, default=ROOT / "work" / "bench-scale")
    parser.add_argument(
        "--only",
        choices=STEPS,
        action="append",
        help="run only these steps (results merged into scale.json); score reads the cohort "
        "the generate step wrote (--cohort to name another)",
    )
    parser.add_argument("--cohort", type=Path, default=None)
    args = parser.parse_args()
    steps = args.only or list(STEPS)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "scale.json"
    results: dict[str, object] = json.loads(out.read_text()) if args.only and out.exists() else {}
    results[f"machine_{'_'.join(steps)}"] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 1) for x in os.getloadavg()],
    }
    if "generate" in steps:
        print(f"generating {args.patients:,} patients on 2 workers", flush=True)
        results["generate"] = _generate(args.patients, 2, work / "cohort")
        print(results["generate"], flush=True)
    if "scaling" in steps:
        scaling = {}
        for workers in (1, 2):
            folder = work / f"scaling-{workers}"
            scaling[workers] = _generate(args.scaling_patients, workers, folder)
            print(scaling[workers], flush=True)
            shutil.rmtree(folder)
        results["generate_scaling"] = {
            "runs": list(scaling.values()),
            "speedup_2_vs_1_workers": round(scaling[1]["seconds"] / scaling[2]["seconds"], 2),
        }
    if "score" in steps:
        cohort = args.cohort or work / "cohort"
        results["score"] = _score(cohort, args.score_rows, args.cluster_rows, work)
    RESULTS.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


def _models(tmp: Path) -> dict[str, Path]:
    """Both models with the synthetic pipelines' LightGBM settings, on the committed sample's
    entry records (the scoring input is the cohort's patients table, entry records alone)."""
    from hepatorisk.cohorts.synthetic import load_cohort
    from hepatorisk.cohorts.synthetic.tables import PATIENTS
    from hepatorisk.modeling.bundle import ModelBundle
    from hepatorisk.modeling.estimators import CalibratedBooster
    from hepatorisk.modeling.features import FeatureBuilder
    from hepatorisk.training.spec import load_pipeline

    cohort = load_cohort(SAMPLE)
    columns = [c.name for c in PATIENTS.columns if c.name != "patient_id"]
    dirs = {}
    for outcome, pipeline in (("liver", "liver_synthetic"), ("relapse", "relapse_synthetic")):
        spec = load_pipeline(ROOT / "pipelines" / f"{pipeline}.yaml")
        known = cohort.outcomes[spec.outcome].notna().to_numpy()  # prevalent: not at risk
        records = cohort.patients[known].drop(columns="patient_id").reset_index(drop=True)
        features = FeatureBuilder(columns=columns, derived=spec.features.derived).fit(records)
        y = cohort.outcomes[spec.outcome][known].to_numpy(dtype=int)
        X = features.transform(records)
        params = {k: int(v) if float(v).is_integer() else v for k, v in spec.model.lightgbm.items()}
        model = CalibratedBooster(**params).fit(X[:1500], y[:1500], X[1500:], y[1500:])
        meta = {"registered_model": spec.registered_model, "outcome": spec.outcome,
                "horizon_weeks": spec.horizon_weeks, "pipeline": spec.name}  # fmt: skip
        bundle = ModelBundle(features, model, meta, spec.labels, spec.groups)
        dirs[outcome] = export(bundle, tmp / outcome, "1")
    return dirs


def _score(
    cohort: Path, rows_wanted: int, cluster_rows: int | None, work: Path
) -> dict[str, object]:
    model = _models(work / "models")["liver"]
    rows = _score_input(cohort, rows_wanted, work / "score-input")
    print(f"scoring {rows:,} rows with explanations", flush=True)
    single = _score_one_process(model, work / "score-input", work / "scores.parquet")
    print(single, flush=True)
    source = work / "score-input"
    if cluster_rows is not None and cluster_rows < rows:
        source = work / "cluster-input"
        _score_input(cohort, cluster_rows, source)
    cluster = {w: _score_cluster(model, source, work / f"scores-{w}", w) for w in (1, 2)}
    print(cluster, flush=True)
    return {
        "explain": True,
        "batch_rows": BATCH_ROWS,
        "one_process": single,
        "cluster": list(cluster.values()),
        "speedup_2_vs_1_workers": round(cluster[2]["rows_per_s"] / cluster[1]["rows_per_s"], 2),
        "extrapolated_seconds_10m_rows": {
            "one_process": round(10_000_000 / single["rows_per_s"]),
            "cluster_2_workers": round(10_000_000 / cluster[2]["rows_per_s"]),
        },
    }


if __name__ == "__main__":
    main()
