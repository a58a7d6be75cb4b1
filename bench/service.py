"""Service benchmark: hepatorisk's API against its peer ``mlflow models serve``, same run.

Both serve the same model (trained here on the committed sample with the pipeline's LightGBM
settings: 300 trees, 15 leaves) on loopback. For each server: sequential requests (p50/p95) and
8 concurrent connections (requests/s), then the ratios. hepatorisk's /v1/assess does both
models, exact SHAP drivers, guideline rules, the dose what-if and a committed audit write;
mlflow's /invocations predicts one model, nothing else. Run: ``.venv/bin/python bench/service.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "service"))
from service_support import build_bundle, export, patient  # noqa: E402

RESULTS = ROOT / "bench" / "results"
MODEL_CODE = ROOT / "src" / "hepatorisk" / "modeling" / "mlflow_model.py"
TOKEN = "bench-token-0123456789abcdef"
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(cmd: list[str], env: dict[str, str], url: str) -> subprocess.Popen:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.2)
    _stop(proc)
    raise SystemExit(f"server did not start: {' '.join(cmd)}")


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)  # the whole group: mlflow leaves a uvicorn child
    proc.wait(30)


def sequential(url: str, body: dict, headers: dict, n: int = 400) -> dict:
    times = []
    with httpx.Client(headers=headers) as c:
        for _ in range(20):
            c.post(url, json=body).raise_for_status()
        for _ in range(n):
            t = time.perf_counter()
            c.post(url, json=body).raise_for_status()
            times.append(time.perf_counter() - t)
    ms = np.array(times) * 1e3
    return {"p50_ms": float(np.median(ms)), "p95_ms": float(np.percentile(ms, 95)),
            "rps": float(n / ms.sum() * 1e3)}  # fmt: skip


async def _concurrent(url: str, body: dict, headers: dict, connections: int) -> dict:
    limits = httpx.Limits(max_connections=connections)
    done, lat = 0, []
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as c:
        stop = time.perf_counter() + SECONDS

        async def worker() -> None:
            nonlocal done
            while time.perf_counter() < stop:
                t = time.perf_counter()
                (await c.post(url, json=body)).raise_for_status()
                lat.append(time.perf_counter() - t)
                done += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    return {"rps": done / elapsed, "p50_ms": float(np.median(lat) * 1e3)}


def concurrent(url: str, body: dict, headers: dict, connections: int = 8) -> dict:
    return asyncio.run(_concurrent(url, body, headers, connections))


def main() -> None:
    import mlflow.pyfunc
    import pandas as pd

    from hepatorisk.service.records import record_columns
    from hepatorisk.service.schemas import AssessRequest

    tmp = Path(tempfile.mkdtemp(prefix="hepatorisk-bench-"))
    dirs = {
        "liver": export(build_bundle("liver_event_12w", "hepatorisk-liver", 300, num_leaves=15),
                        tmp / "liver", "1"),
        "relapse": export(build_bundle("relapse_12w", "hepatorisk-relapse", 300, num_leaves=15),
                          tmp / "relapse", "1"),
    }  # fmt: skip
    mlflow.pyfunc.save_model(tmp / "pyfunc", python_model=str(MODEL_CODE),
                             artifacts={"bundle": str(dirs["liver"])},
                             pip_requirements=["hepatorisk"])  # fmt: skip
    body = patient()
    record = record_columns([AssessRequest.model_validate(body).to_input()])
    row = pd.DataFrame(record).astype(object).where(pd.DataFrame(record).notna(), None)
    mlflow_body = {"dataframe_records": row.to_dict(orient="records")}

    env = {k: v for k, v in os.environ.items() if not k.startswith("HEPATORISK_")}
    bin_dir = Path(sys.executable).parent
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"  # mlflow execs `uvicorn`
    results: dict[str, dict] = {}

    port = _port()
    proc = _start([str(bin_dir / "mlflow"), "models", "serve", "-m", str(tmp / "pyfunc"),
                   "--env-manager", "local", "-h", "127.0.0.1", "-p", str(port)],
                  env, f"http://127.0.0.1:{port}/ping")  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/invocations"
        results["mlflow /invocations"] = {
            "sequential": sequential(url, mlflow_body, {}),
            "concurrent8": concurrent(url, mlflow_body, {}),
        }
    finally:
        _stop(proc)

    port = _port()
    env |= {"HEPATORISK_API_TOKENS": json.dumps([{"caller": "bench", "token": TOKEN}]),
            "HEPATORISK_AUDIT_DB_URL": f"sqlite:///{tmp / 'audit.db'}"}  # fmt: skip
    proc = _start([sys.executable, "-m", "hepatorisk", "-q", "serve", "--port", str(port),
                   "--liver-model", str(dirs["liver"]), "--relapse-model", str(dirs["relapse"])],
                  env, f"http://127.0.0.1:{port}/readyz")  # fmt: skip
    auth = {"Authorization": f"Bearer {TOKEN}"}
    base = f"http://127.0.0.1:{port}/v1"
    try:
        one = {"patients": [body], "explain": False}
        results["hepatorisk /v1/assess"] = {
            "sequential": sequential(f"{base}/assess", body, auth),
            "concurrent8": concurrent(f"{base}/assess", body, auth),
        }
        results["hepatorisk /v1/assess/batch (1 patient, no explanation)"] = {
            "sequential": sequential(f"{base}/assess/batch", one, auth),
            "concurrent8": concurrent(f"{base}/assess/batch", one, auth),
        }
        batch = {"patients": [patient(demographics={"age": 18 + i % 60, "sex": "male"})
                              for i in range(1000)]}  # fmt: skip
        with httpx.Client(headers=auth, timeout=120) as c:
            c.post(f"{base}/assess/batch", json=batch).raise_for_status()
            t = time.perf_counter()
            for _ in range(3):
                c.post(f"{base}/assess/batch", json=batch).raise_for_status()
            results["hepatorisk /v1/assess/batch (1000, explained)"] = {
                "patients_per_s": 3000 / (time.perf_counter() - t)
            }
    finally:
        _stop(proc)
    _report(results)


def _report(results: dict[str, dict]) -> None:
    peer = results["mlflow /invocations"]
    for name, r in results.items():
        print(f"{name}: {json.dumps(r, indent=None)}")
    for name in (
        "hepatorisk /v1/assess",
        "hepatorisk /v1/assess/batch (1 patient, no explanation)",
    ):
        r = results[name]
        conc = r["concurrent8"]["rps"] / peer["concurrent8"]["rps"]
        seq = r["sequential"]["rps"] / peer["sequential"]["rps"]
        print(f"{name} vs mlflow: concurrent x{conc:.2f}, sequential x{seq:.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "service.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
