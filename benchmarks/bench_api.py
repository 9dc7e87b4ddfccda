"""Benchmark the risk-plus-explanation endpoint under load, against /healthz of the same app.

Run from the repository root (needs ``wrk``: ``apt-get install -y wrk``)::

    .venv/bin/python -m benchmarks.bench_api          # 20,000 employers, 20 s per endpoint
    .venv/bin/python -m benchmarks.bench_api --employers 5000 --seconds 5

The script builds a scored store and an MLflow registry in a temporary folder
and starts ``injury-risk serve`` on 127.0.0.1 in a second process. wrk drives
it from a third process with 2 threads and 32 connections, alternating
``/healthz`` and ``/v1/employers/{id}/explanation`` (employers drawn at random)
``--runs`` times; a Lua script adds the ``Authorization`` header. The
explanation response carries the score, band and percentiles as well as the
contributions and reasons, and each read writes an audit row, as in service. Results go to
``benchmarks/results/api.json`` and the "API" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from api.auth import Role, create_api_key
from benchmarks.bench_features import generate_bench_tables
from benchmarks.report import publish
from risk.labels import as_of_grid, latest_as_of
from risk.model.tracking import CHAMPION_ALIAS, log_training_run, register_model
from risk.model.xgb import XGBParams, fit_risk_model
from risk.panel import build_panel
from risk.scoring import score_employers, write_score_frame
from risk.store import create_store_engine, upgrade_store
from risk.store.load import load_tables

ROOT = Path(__file__).resolve().parent.parent
# Arguments of the quick run that `python -m benchmarks` (make bench) makes.
SMALL_ARGS = ["--employers", "2000", "--seconds", "3", "--runs", "1", "--no-doc"]
RESULTS = ROOT / "benchmarks" / "results" / "api.json"
CONNECTIONS, THREADS = 32, 2
ENDPOINTS = {"healthz": "/healthz", "explanation": "/v1/employers/{id}/explanation"}

LUA = """
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
wrk.headers["Authorization"] = "Bearer %(key)s"
request = function()
  local path = "%(path)s"
  if path:find("{id}") then path = path:gsub("{id}", ids[math.random(#ids)]) end
  return wrk.format("GET", path)
end
"""


def _prepare(folder: Path, n_employers: int) -> tuple[dict[str, str], str, list[str]]:
    tables = generate_bench_tables(n_employers, 6, n_employers * 6, seed=7)
    database_url = f"sqlite:///{folder / 'store.db'}"
    tracking_uri = f"sqlite:///{folder / 'mlflow.db'}"
    engine = create_store_engine(database_url)
    upgrade_store(engine)
    load_tables(engine, tables.frames())
    panel = build_panel(tables, as_of_grid(tables)[-6:])
    model = fit_risk_model(panel, params=XGBParams(n_estimators=200, early_stopping_rounds=30))
    run = log_training_run(
        model, panel, tracking_uri=tracking_uri, artifact_root=folder / "artifacts"
    )
    register_model(run, tracking_uri=tracking_uri, name="injury-risk", alias=CHAMPION_ALIAS)
    frame = score_employers(tables, model, latest_as_of(tables))
    write_score_frame(engine, frame, model_name="injury-risk", model_version="1")
    key, _ = create_api_key(engine, Role.ADMIN, label="benchmark")
    env = {
        "INJURY_RISK_DATABASE_URL": database_url,
        "INJURY_RISK_MLFLOW_TRACKING_URI": tracking_uri,
        "INJURY_RISK_LOG_LEVEL": "WARNING",
    }
    return env, key, frame.scores["employer_id"].tolist()


def _wrk(
    url: str, path: str, key: str, ids_file: Path, seconds: int, folder: Path
) -> dict[str, float]:
    script = folder / "bench.lua"
    script.write_text(LUA % {"ids": ids_file, "key": key, "path": path}, encoding="utf-8")
    output = subprocess.run(
        [
            "wrk",
            "-t",
            str(THREADS),
            "-c",
            str(CONNECTIONS),
            "-d",
            f"{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return _parse_wrk(output)


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _parse_wrk(output: str) -> dict[str, float]:
    # wrk --latency prints lines such as "     99%   12.34ms" under "Latency Distribution".
    latencies = dict(
        re.findall(r"^\s*(50|99)(?:\.0+)?%\s+([\d.]+(?:us|ms|s))", output, re.MULTILINE)
    )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: (.*)$", output, flags=re.MULTILINE)
    return {
        "requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50_ms": _milliseconds(latencies["50"]),
        "p99_ms": _milliseconds(latencies["99"]),
        "non_2xx": float(errors.group(1)) if errors else 0.0,
        "socket_errors": socket_errors.group(1) if socket_errors else "",  # type: ignore[dict-item]
    }


def _medians(runs: list[dict[str, float]]) -> dict[str, Any]:
    """Return the median of each figure over the runs, the runs themselves and the error total."""
    medians: dict[str, Any] = {
        name: statistics.median(float(run[name]) for run in runs)
        for name in ("requests_per_second", "p50_ms", "p99_ms")
    }
    medians["non_2xx"] = sum(float(run["non_2xx"]) for run in runs)
    medians["socket_errors"] = [run["socket_errors"] for run in runs if run["socket_errors"]]
    medians["runs"] = runs
    return medians


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [str(Path(sys.executable).parent / "injury-risk"), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    process.terminate()
    raise RuntimeError("the service did not become ready within 600 s")


def _doc_section(result: dict[str, Any]) -> str:
    health, explanation = result["healthz"], result["explanation"]
    return (
        "## API\n\n"
        f"`python -m benchmarks.bench_api --employers {result['employers']} --seconds"
        f" {result['seconds']} --runs {len(health['runs'])}`. One uvicorn worker"
        " (`injury-risk serve`) serves on 127.0.0.1, and wrk loads it from another process"
        f" on the same {result['cpus']}-CPU machine with {THREADS} threads and {CONNECTIONS}"
        f" connections, {result['seconds']} s per run. The {len(health['runs'])} runs per"
        " endpoint alternate between the endpoints. The table gives medians over the runs"
        " and the total of non-2xx responses. Each request draws an employer at random,"
        " and each explanation read also writes an audit row. Load average at the end:"
        f" {', '.join(f'{value:.1f}' for value in result['load_average'])}.\n\n"
        "| endpoint | requests/s | p50 (ms) | p99 (ms) | non-2xx |\n"
        "| --- | ---: | ---: | ---: | ---: |\n"
        f"| GET /healthz | {health['requests_per_second']:.0f} | {health['p50_ms']:.1f}"
        f" | {health['p99_ms']:.1f} | {health['non_2xx']:.0f} |\n"
        f"| GET /v1/employers/{{id}}/explanation | {explanation['requests_per_second']:.0f}"
        f" | {explanation['p50_ms']:.1f} | {explanation['p99_ms']:.1f}"
        f" | {explanation['non_2xx']:.0f} |\n\n"
        f"Throughput of the explanation endpoint / /healthz: **{result['ratio']:.2f}** (target:"
        " at least 0.5, with p99 under 50 ms).\n\n"
        "The service holds the served scoring run in memory (`serve_scores_from_memory`, on by"
        " default), so the explanation handler runs on the event loop without a store read or a"
        " thread hop; the model switch loads the next run before it swaps. What remains per"
        " request is Python work: FastAPI's routing and dependencies, the reasons, a JSON body"
        " of about 25 KB with all 115 contributions, and the audit row, which a background"
        " thread inserts in batches.\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Prepare the store, serve it, load it with wrk and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--employers", type=int, default=20_000, help="Employers scored and served."
    )
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per endpoint.")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per endpoint.")
    parser.add_argument("--port", type=int, default=8765, help="Port of the service on 127.0.0.1.")
    parser.add_argument(
        "--no-doc",
        action="store_true",
        help="Only print: update neither docs/benchmarks.md nor the results file.",
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed; run `apt-get install -y wrk` first")

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        env, key, ids = _prepare(folder, args.employers)
        ids_file = folder / "ids.txt"
        ids_file.write_text("\n".join(ids) + "\n", encoding="utf-8")
        server = _serve(env, args.port)
        try:
            url = f"http://127.0.0.1:{args.port}"
            result: dict[str, Any] = {
                "employers": args.employers,
                "seconds": args.seconds,
                "cpus": os.cpu_count(),
            }
            # Warm up both endpoints (model, caches, SQLite pages) before timing.
            _wrk(url, "/v1/employers/{id}/explanation", key, ids_file, 3, folder)
            runs: dict[str, list[dict[str, float]]] = {"healthz": [], "explanation": []}
            for _ in range(args.runs):
                for name, path in ENDPOINTS.items():
                    runs[name].append(_wrk(url, path, key, ids_file, args.seconds, folder))
                    print(name, runs[name][-1], flush=True)  # noqa: T201
            result["load_average"] = os.getloadavg()
        finally:
            server.terminate()
            server.wait(30)
    for name, measured in runs.items():
        result[name] = _medians(measured)
    result["ratio"] = (
        result["explanation"]["requests_per_second"] / result["healthz"]["requests_per_second"]
    )
    publish(result, RESULTS, "API", _doc_section(result), record=not args.no_doc)


if __name__ == "__main__":
    main()
