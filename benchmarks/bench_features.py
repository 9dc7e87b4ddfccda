"""Benchmark feature building against the same aggregates written as one DuckDB query.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_features            # 500,000 employers, 3M incidents
    .venv/bin/python -m benchmarks.bench_features --employers 20000 --incidents 120000 --repeats 2

The script generates a synthetic data set with ``generate_bench_tables`` (in
``features_reference.py``, beside the DuckDB query) and writes it to Parquet.
Each timed run is a fresh subprocess, so its peak RSS covers one run only:
loading the Parquet files plus building the features.
It then checks once that both engines give the same values, times
``build_panel`` on 24 quarterly dates at 20,000 employers, and writes the
results to ``benchmarks/results/`` and the "Features" section of
``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.features_reference import LAST_YEAR, generate_bench_tables, run_duckdb
from benchmarks.report import write_doc_section
from risk.features import build_features, feature_catalog
from risk.labels import as_of_grid
from risk.panel import build_panel
from risk.store.db import create_store_engine, upgrade_store
from risk.store.read import read_tables
from risk.tables import COLUMNS, CanonicalTables

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
AS_OF = dt.date(2023, 12, 31)
STORE_TABLES = {
    "employers": "employer",
    "headcounts": "employer_headcount",
    "incidents": "incident",
    "hazard_findings": "hazard_finding",
    "training_records": "training_record",
}


# ---------------------------------------------------------------------------
# Measurement: each run in a fresh subprocess, so its peak RSS is its own.


def _save(tables: CanonicalTables, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in COLUMNS:
        getattr(tables, name).to_parquet(folder / f"{name}.parquet", index=False)


def _load(folder: Path) -> CanonicalTables:
    return CanonicalTables(
        **{name: pd.read_parquet(folder / f"{name}.parquet") for name in COLUMNS}
    )


def _rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _worker(engine: str, folder: Path) -> dict[str, float]:
    tables = _load(folder)
    after_load = _rss_mb()
    started = time.perf_counter()
    frame = build_features(tables, AS_OF) if engine == "pandas" else run_duckdb(tables, AS_OF)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "rows": len(frame),
        "rss_after_load_mb": after_load,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _compare(folder: Path) -> dict[str, object]:
    """Compare every feature of both engines, matched on employer_id."""
    tables = _load(folder)
    ours = build_features(tables, AS_OF).sort_values("employer_id").reset_index(drop=True)
    reference = run_duckdb(tables, AS_OF).sort_values("employer_id").reset_index(drop=True)
    mismatched = []
    for name, kind in feature_catalog()[["name", "kind"]].itertuples(index=False):
        if kind == "categorical":
            same = (
                ours[name].astype("str").fillna("") == reference[name].astype("str").fillna("")
            ).all()
        else:
            same = np.allclose(
                ours[name].to_numpy(float),
                reference[name].to_numpy(float, na_value=np.nan),
                rtol=1e-9,
                atol=1e-9,
                equal_nan=True,
            )
        if not same:
            mismatched.append(name)
    return {"features_compared": len(feature_catalog()), "mismatched": mismatched}


def _panel_timing(n_employers: int, dates: int) -> dict[str, float]:
    tables = generate_bench_tables(n_employers, 6, n_employers * 6, seed=11)
    as_of_dates = [
        stamp.date() for stamp in pd.date_range("2019-03-31", periods=dates, freq="QE-DEC")
    ]
    started = time.perf_counter()
    import warnings

    with warnings.catch_warnings():
        # The last dates' outcome windows pass the synthetic data end; only the time matters here.
        warnings.simplefilter("ignore", UserWarning)
        panel = build_panel(tables, as_of_dates)
    return {
        "seconds": time.perf_counter() - started,
        "rows": len(panel),
        "dates": dates,
        "employers": n_employers,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _demo_timing() -> dict[str, object]:
    try:
        from risk.demo import generate_demo_tables
    except ImportError:
        return {"skipped": "risk.demo is not installed"}
    from risk.labels import latest_as_of

    demo = generate_demo_tables(seed=1, end_year=LAST_YEAR)
    tables = CanonicalTables(**demo.frames())
    as_of = latest_as_of(tables)
    started = time.perf_counter()
    build_features(tables, as_of)
    features_seconds = time.perf_counter() - started
    grid = as_of_grid(tables)
    started = time.perf_counter()
    panel = build_panel(tables, grid)
    return {
        "employers": len(tables.employers),
        "rows": tables.row_counts(),
        "as_of": str(as_of),
        "features_seconds": features_seconds,
        "panel_seconds": time.perf_counter() - started,
        "panel_dates": len(grid),
        "panel_rows": len(panel),
    }


def _run_worker(mode: str, *arguments: str) -> dict[str, object]:
    command = [sys.executable, "-m", "benchmarks.bench_features", "--worker", mode, *arguments]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"worker {mode} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _machine() -> dict[str, object]:
    model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo", encoding="ascii") as meminfo:
        memory_gb = int(meminfo.readline().split()[1]) / 1024**2
    import duckdb

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "duckdb": duckdb.__version__,
        "load_average_at_start": os.getloadavg(),
    }


def _summary(runs: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, float]]:
    return {
        engine: {
            "median_seconds": statistics.median(run["seconds"] for run in results),
            "min_seconds": min(run["seconds"] for run in results),
            "max_seconds": max(run["seconds"] for run in results),
            "median_peak_rss_mb": statistics.median(run["peak_rss_mb"] for run in results),
            "median_rss_after_load_mb": statistics.median(
                run["rss_after_load_mb"] for run in results
            ),
        }
        for engine, results in runs.items()
    }


def _doc_section(result: dict[str, Any]) -> str:
    machine, sizes, summary = result["machine"], result["sizes"], result["summary"]
    pandas_run, duckdb_run = summary["pandas"], summary["duckdb"]
    panel, demo = result["panel"], result["demo"]
    lines = [
        "## Features",
        "",
        f"Command: `{result['command']}` (run on {result['finished_at'][:10]}).",
        f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gb']} GB,"
        f" Python {machine['python']}, pandas {machine['pandas']}, numpy {machine['numpy']},"
        f" DuckDB {machine['duckdb']}. Load average when the run started:"
        f" {', '.join(f'{value:.1f}' for value in machine['load_average_at_start'])}"
        " (other jobs shared the machine, so times vary between runs).",
        "",
        f"Data: synthetic, {sizes['employers']:,} employers, {sizes['years']} years of headcounts,"
        f" {sizes['incidents']:,} incidents, {sizes['incidents'] // 2:,} hazard findings,"
        f" {sizes['incidents'] // 6:,} training records; features as of {result['as_of']}"
        f" ({result['features']} features).",
        "",
        "| engine | median s | min s | max s | runs | median peak RSS MB"
        " | RSS after loading data MB |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for engine, label in (
        ("pandas", "`build_features` (numpy/pandas)"),
        ("duckdb", "one DuckDB query"),
    ):
        run = summary[engine]
        lines.append(
            f"| {label} | {run['median_seconds']:.2f} | {run['min_seconds']:.2f} |"
            f" {run['max_seconds']:.2f} | {result['repeats']} | {run['median_peak_rss_mb']:.0f} |"
            f" {run['median_rss_after_load_mb']:.0f} |"
        )
    lines += [
        "",
        f"Ratio pandas/DuckDB of the medians: {result['ratio_pandas_to_duckdb']:.2f}"
        " (target: at most 2). Targets for `build_features` at 500,000 employers: under 60 s and"
        f" under 4 GB peak RSS; measured here {pandas_run['median_seconds']:.1f} s and"
        f" {pandas_run['median_peak_rss_mb'] / 1024:.2f} GB (peak RSS of the whole process,"
        " including the loaded tables).",
        f"DuckDB reads the same pandas frames; its time ({duckdb_run['median_seconds']:.1f} s)"
        " includes converting the result to pandas. Both give the same value for every"
        f" feature: {len(result['comparison']['mismatched'])} of"
        f" {result['comparison']['features_compared']} features differ (relative tolerance 1e-9).",
        "",
        *_store_lines(result),
        f"Panel: `build_panel` over {panel['dates']} quarterly as_of dates at"
        f" {panel['employers']:,}"
        f" employers ({panel['rows']:,} rows) took {panel['seconds']:.1f} s.",
    ]
    if "skipped" in demo:
        lines.append(f"Demo data: {demo['skipped']}.")
    else:
        lines.append(
            f"Demo data (`generate_demo_tables`, {demo['employers']:,} employers,"
            f" {demo['rows']['incidents']:,} incidents): `build_features` as of {demo['as_of']}"
            " took"
            f" {demo['features_seconds']:.2f} s; `build_panel` over its {demo['panel_dates']}"
            f" quarterly grid dates ({demo['panel_rows']:,} rows) took"
            f" {demo['panel_seconds']:.1f} s."
        )
    lines += ["", f"Raw results: `benchmarks/results/{result['file']}` (not committed).", ""]
    return "\n".join(lines)


def _store_lines(result: dict[str, Any]) -> list[str]:
    reads = result.get("store_reads")
    if not reads:
        return []
    seconds = statistics.median(run["seconds"] for run in reads)
    peak = statistics.median(run["peak_rss_mb"] for run in reads)
    return [
        f"Store: `read_tables` on a SQLite store of the same data (all five tables) took a median"
        f" of {seconds:.1f} s over {len(reads)} runs, peak RSS {peak:.0f} MB.",
    ]


def _write_sqlite_store(tables: CanonicalTables, path: Path) -> None:
    """Write the tables into a migrated SQLite store, as ingest would leave it."""
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade_store(engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    for name, table in STORE_TABLES.items():
        frame = getattr(tables, name).copy()
        for column in frame.columns:
            if pd.api.types.is_datetime64_any_dtype(frame[column]):
                frame[column] = frame[column].dt.strftime("%Y-%m-%d")
        rows = frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None)
        marks = ", ".join("?" * len(frame.columns))
        connection.executemany(
            f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES ({marks})", rows
        )
    connection.commit()
    connection.close()


def _read_worker(path: Path) -> dict[str, float]:
    started = time.perf_counter()
    tables = read_tables(create_store_engine(f"sqlite:///{path}"))
    return {
        "seconds": time.perf_counter() - started,
        "incidents": len(tables.incidents),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=500_000, help="number of employers")
    parser.add_argument("--years", type=int, default=6, help="years of headcounts and events")
    parser.add_argument("--incidents", type=int, default=3_000_000, help="number of incidents")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per engine")
    parser.add_argument(
        "--panel-employers", type=int, default=20_000, help="employers in the panel timing"
    )
    parser.add_argument(
        "--skip-store", action="store_true", help="do not time read_tables on a SQLite store"
    )
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--worker", choices=sorted(WORKERS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


WORKERS = {
    "pandas": lambda args: _worker("pandas", args.data),
    "duckdb": lambda args: _worker("duckdb", args.data),
    "compare": lambda args: _compare(args.data),
    "read": lambda args: _read_worker(args.data),
    "panel": lambda args: _panel_timing(args.panel_employers, 24),
    "demo": lambda args: _demo_timing(),
}


def _time_engines(folder: Path, repeats: int) -> dict[str, list[dict[str, float]]]:
    runs: dict[str, list[dict[str, float]]] = {"pandas": [], "duckdb": []}
    for repeat in range(repeats):
        # Alternating engines spreads slow phases of a shared machine over both.
        for engine in runs:
            runs[engine].append(_run_worker(engine, "--data", str(folder)))  # type: ignore[arg-type]
            print(f"run {repeat + 1} {engine}: {runs[engine][-1]}", flush=True)  # noqa: T201
    return runs


def _time_store_reads(
    tables: CanonicalTables, folder: Path, repeats: int
) -> list[dict[str, float]]:
    store = folder / "store.db"
    started = time.perf_counter()
    _write_sqlite_store(tables, store)
    print(f"wrote the SQLite store in {time.perf_counter() - started:.1f} s", flush=True)  # noqa: T201
    reads = [_run_worker("read", "--data", str(store)) for _ in range(repeats)]
    print(f"read_tables runs: {reads}", flush=True)  # noqa: T201
    return reads  # type: ignore[return-value]


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write the results (see the module docstring)."""
    args = _parse_args(argv)
    if args.worker:
        print(json.dumps(WORKERS[args.worker](args)))  # noqa: T201
        return

    arguments = " ".join(argv if argv is not None else sys.argv[1:])
    result: dict[str, Any] = {
        "command": f"python -m benchmarks.bench_features {arguments}".strip(),
        "machine": _machine(),
        "sizes": {"employers": args.employers, "years": args.years, "incidents": args.incidents},
        "as_of": str(AS_OF),
        "features": len(feature_catalog()),
        "repeats": args.repeats,
    }
    print(f"machine: {result['machine']}\ncommand: {result['command']}", flush=True)  # noqa: T201
    with tempfile.TemporaryDirectory(prefix="bench_features_") as scratch:
        folder = Path(scratch)
        tables = generate_bench_tables(args.employers, args.years, args.incidents)
        _save(tables, folder)
        result["runs"] = _time_engines(folder, args.repeats)
        result["comparison"] = _run_worker("compare", "--data", str(folder))
        if not args.skip_store:
            result["store_reads"] = _time_store_reads(tables, folder, min(args.repeats, 3))
        del tables
    result["panel"] = _run_worker("panel", "--panel-employers", str(args.panel_employers))
    result["demo"] = _run_worker("demo")

    summary = _summary(result["runs"])
    finished = dt.datetime.now()
    result.update(
        {
            "summary": summary,
            "ratio_pandas_to_duckdb": summary["pandas"]["median_seconds"]
            / summary["duckdb"]["median_seconds"],
            "finished_at": finished.isoformat(timespec="seconds"),
            "file": f"features-{finished:%Y%m%d-%H%M%S}.json",
        }
    )
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / result["file"]).write_text(json.dumps(result, indent=2), encoding="utf-8")
    section = _doc_section(result)
    print(section)  # noqa: T201
    if not args.no_doc:
        write_doc_section("Features", section)


if __name__ == "__main__":
    main()
