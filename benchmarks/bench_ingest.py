"""Benchmark ingest of agency exports into SQLite and PostgreSQL.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_ingest --employers 500000 --incidents 3000000 --runs 3
    .venv/bin/python -m benchmarks.bench_ingest --employers 2000 --incidents 12000 --runs 1 --no-doc

The script writes three export files with the agency's Chinese headers:
employers (UTF-8 with BOM), two years of headcounts, and incidents (UTF-8, in
random order, with the workers' personal-data columns that ingest drops and
dates in three forms). Credit codes are valid and every incident's employer
is in the employer file. Each timed run ingests all three files into an
empty store with :func:`risk.ingest.ingest_files` in a fresh subprocess, so
its peak resident memory (``VmHWM``) covers that run only. Results go to
``benchmarks/results/`` and to the "Ingest" section of ``docs/benchmarks.md``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from benchmarks.report import write_doc_section
from risk import codelists
from risk.credit_code import ALPHABET, WEIGHTS

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "benchmarks" / "results"
POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
FIRST_YEAR = 2019
DAYS = 5 * 365
# Arguments of the quick run made by ``python -m benchmarks``.
SMALL_ARGS = ["--employers", "2000", "--incidents", "12000", "--runs", "1", "--no-doc"]


# ---------------------------------------------------------------------------
# Export files, generated with numpy only (no Python loop over rows).


def credit_codes(count: int, rng: np.random.Generator) -> np.ndarray:
    """Return ``count`` distinct valid credit codes of Hangzhou enterprises."""
    symbols = np.frombuffer(ALPHABET.encode("ascii"), dtype=np.uint8)
    districts = np.array([list(code.encode()) for code in codelists.districts()["code"]])
    values = np.zeros((count, 18), dtype=np.int64)
    values[:, 0], values[:, 1] = 9, 1
    values[:, 2:8] = districts[rng.integers(0, len(districts), count)] - ord("0")
    # The organisation code spells the row number in base 31, so every code is distinct.
    number = np.arange(count, dtype=np.int64) + rng.integers(0, 31**6)
    for position in range(16, 7, -1):
        values[:, position] = number % 31
        number //= 31
    values[:, 17] = (31 - values[:, :17] @ np.asarray(WEIGHTS) % 31) % 31
    return symbols[values].view("S18").ravel().astype(str)


def _join(*parts: np.ndarray | str) -> np.ndarray:
    return functools.reduce(np.char.add, parts)


def _dates(days: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return dates as 2023-03-05 (70 %), 2023/3/5 (20 %) or 2023年3月5日 (10 %)."""
    stamps = np.datetime64(f"{FIRST_YEAR}-01-01") + days.astype("timedelta64[D]")
    months = stamps.astype("datetime64[M]")
    iso = stamps.astype(str)
    year = iso.astype("U4")
    month = (months.astype(int) % 12 + 1).astype(str)
    day = ((stamps - months.astype("datetime64[D]")).astype(int) + 1).astype(str)
    form = rng.random(len(days))
    slash = _join(year, "/", month, "/", day)
    chinese = _join(year, "年", month, "月", day, "日")
    return np.where(form < 0.7, iso, np.where(form < 0.9, slash, chinese))


def write_exports(folder: Path, employers: int, incidents: int, seed: int = 0) -> dict[str, Path]:
    """Write the employer, headcount and incident exports into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "employers": folder / "employers.csv",
        "headcounts": folder / "headcounts.csv",
        "incidents": folder / "incidents.csv",
    }

    codes = credit_codes(employers, rng)
    divisions = codelists.industry_divisions()
    classes = (divisions["section"] + divisions["division"] + "10").to_numpy()
    districts = codelists.districts()["name_zh"].to_numpy()
    names = _join("杭州市", np.arange(employers).astype(str), "号有限公司")
    employer_columns = {
        "统一社会信用代码": codes,
        "单位名称": names,
        "行业代码": classes[rng.integers(0, len(classes), employers)],
        "所属区县": districts[rng.integers(0, len(districts), employers)],
    }
    _write(paths["employers"], employer_columns, bom=True)

    headcount_columns = {
        "统一社会信用代码": np.repeat(codes, 2),
        "年度": np.tile(["2022", "2023"], employers),
        "参保人数": rng.integers(1, 2000, 2 * employers).astype(str),
    }
    _write(paths["headcounts"], headcount_columns)

    _write(paths["incidents"], _incident_columns(codes, incidents, rng))
    return paths


def _incident_columns(
    codes: np.ndarray, count: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    serious = rng.random(count) < 0.15
    fatal = rng.random(count) < 0.01
    lost = np.where(serious, rng.integers(105, 365, count), rng.integers(0, 105, count))
    grade = np.where(
        serious & (rng.random(count) < 0.5), rng.integers(1, 11, count).astype(str), ""
    )
    births = (
        np.datetime64("1970-01-01") + rng.integers(0, 12000, count).astype("timedelta64[D]")
    ).astype(str)
    id_numbers = np.char.add(np.char.add("330106", np.char.replace(births, "-", "")), "1234")
    accident_names = codelists.accident_types()["name_zh"].to_numpy()
    order = rng.permutation(count)
    return {
        "工伤认定书编号": np.char.add("GS", np.char.zfill(order.astype(str), 9)),
        "统一社会信用代码": codes[rng.integers(0, len(codes), count)],
        "姓名": np.array(["张伟", "王芳", "李娜", "刘洋"])[rng.integers(0, 4, count)],
        "身份证号": id_numbers,
        "手机号": np.char.add("138", np.char.zfill(rng.integers(0, 10**8, count).astype(str), 8)),
        "事故发生日期": _dates(rng.integers(0, DAYS, count), rng),
        "事故类别": accident_names[rng.integers(0, len(accident_names), count)],
        "伤害程度": np.where(fatal, "死亡", np.where(serious, "重伤", "轻伤")),
        "停工留薪期(天)": np.where(fatal, "", lost.astype(str)),
        "伤残等级": np.where(fatal, "", grade),
        "是否上下班途中": np.where(rng.random(count) < 0.1, "是", "否"),
    }


def _write(path: Path, columns: dict[str, np.ndarray], bom: bool = False) -> None:
    table = pa.table({name: pa.array(values.astype(str)) for name, values in columns.items()})
    with path.open("wb") as handle:
        if bom:
            handle.write(b"\xef\xbb\xbf")
        pa_csv.write_csv(table, handle)


# ---------------------------------------------------------------------------
# Measurement: each run ingests into an empty store in a fresh subprocess.


def _worker(database_url: str, folder: Path) -> dict[str, Any]:
    from risk.ingest import ingest_files
    from risk.store import create_store_engine, upgrade_store

    engine = create_store_engine(database_url)
    upgrade_store(engine)
    paths = [folder / "employers.csv", folder / "headcounts.csv", folder / "incidents.csv"]
    cpu_started = time.process_time()
    started = time.perf_counter()
    parsed_at: list[float] = []
    result = ingest_files(
        paths, engine, on_file=lambda _path: parsed_at.append(time.perf_counter())
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": time.process_time() - cpu_started,
        "parse_seconds": parsed_at[-1] - started,
        "load_seconds": {kind: load.seconds for kind, load in result.loads.items()},
        "load_cpu_seconds": {kind: load.cpu_seconds for kind, load in result.loads.items()},
        "rows": result.rows_loaded,
        "errors": len(result.errors),
        "peak_rss_mb": _peak_rss_mb(),
    }


def _peak_rss_mb() -> float:
    # VmHWM starts afresh at exec, unlike ru_maxrss, which keeps the peak of the process
    # image before exec: the forked copy of the parent that generated the exports.
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(database_url: str, folder: Path) -> dict[str, Any]:
    load_average = os.getloadavg()[0]
    command = [
        sys.executable,
        "-m",
        "benchmarks.bench_ingest",
        "--worker",
        database_url,
        "--data",
        str(folder),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    run = json.loads(output.strip().splitlines()[-1])
    run["load_average_before"] = load_average
    return run


def _sqlite_runs(folder: Path, runs: int, scratch: Path) -> list[dict[str, Any]]:
    results = []
    for number in range(runs):
        path = scratch / f"ingest_{number}.db"
        results.append(_run(f"sqlite:///{path}", folder))
        for leftover in scratch.glob(f"ingest_{number}.db*"):
            leftover.unlink()
        print("sqlite", json.dumps(results[-1]), flush=True)  # noqa: T201
    return results


def _postgres_runs(folder: Path, runs: int) -> list[dict[str, Any]] | str:
    import psycopg

    admin_url = f"{POSTGRES_SERVER}/test"
    try:
        psycopg.connect(admin_url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        return f"skipped: PostgreSQL at 127.0.0.1:5432 is unreachable ({exc})"
    results = []
    for _ in range(runs):
        name = f"injury_risk_bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        try:
            results.append(_run(f"{POSTGRES_SERVER}/{name}", folder))
        finally:
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        print("postgresql", json.dumps(results[-1]), flush=True)  # noqa: T201
    return results


def _summary(runs: list[dict[str, Any]], incidents: int) -> dict[str, float]:
    total_rows = sum(runs[0]["rows"].values())
    return {
        "median_seconds": statistics.median(run["seconds"] for run in runs),
        "median_cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
        "median_parse_seconds": statistics.median(run["parse_seconds"] for run in runs),
        "median_rows_per_second": statistics.median(total_rows / run["seconds"] for run in runs),
        "median_incident_load_rows_per_second": statistics.median(
            incidents / run["load_seconds"]["incidents"] for run in runs
        ),
        "median_incident_load_seconds": statistics.median(
            run["load_seconds"]["incidents"] for run in runs
        ),
        "median_incident_load_cpu_seconds": statistics.median(
            run["load_cpu_seconds"]["incidents"] for run in runs
        ),
        "max_peak_rss_mb": max(run["peak_rss_mb"] for run in runs),
        "median_load_average_before": statistics.median(run["load_average_before"] for run in runs),
    }


def _machine() -> dict[str, Any]:
    import sqlite3

    packages = ("pandas", "numpy", "pyarrow", "pandera", "sqlalchemy", "psycopg")
    memory_kb = (
        int(Path("/proc/meminfo").read_text().split()[1]) if Path("/proc/meminfo").exists() else 0
    )
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024**2, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        **{package: metadata.version(package) for package in packages},
    }


# ---------------------------------------------------------------------------
# Report.


def _doc_section(result: dict[str, Any]) -> str:
    machine = result["machine"]
    lines = [
        "## Ingest",
        "",
        f"Command: `{result['command']}`",
        "",
        f"Machine: {machine['cpus']} CPUs, {machine['memory_gb']} GB memory, {machine['platform']},"
        f" Python {machine['python']}, SQLite {machine['sqlite']}, pandas {machine['pandas']},"
        f" pyarrow {machine['pyarrow']}, pandera {machine['pandera']},"
        f" SQLAlchemy {machine['sqlalchemy']}, psycopg {machine['psycopg']}.",
        "",
        f"Data: {result['employers']:,} employers, {2 * result['employers']:,} headcount rows and"
        f" {result['incidents']:,} incidents in three CSV exports"
        f" ({result['export_mb']:.0f} MB), ingested into an empty store; {result['runs']} run(s)"
        " per database, each in a fresh process. Times are wall-clock seconds of"
        " `ingest_files` (reading, validation, cross-checks and loading in one transaction).",
        "",
        "| database | median s | median CPU s | reading and validation s | rows/s, whole ingest"
        " | incident load s | incident load CPU s | incident rows/s, load"
        " | incident rows per CPU-second, load | peak RSS MB | load average before |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for database, summary in result["summary"].items():
        if isinstance(summary, str):
            lines.append(f"| {database} | {summary} |" + " |" * 9)
            continue
        # PostgreSQL does the insert in its server process, which this CPU time leaves out.
        cpu_rate = (
            f"{result['incidents'] / summary['median_incident_load_cpu_seconds']:,.0f}"
            if database == "sqlite"
            else "n/a"
        )
        lines.append(
            f"| {database} | {summary['median_seconds']:.1f} |"
            f" {summary['median_cpu_seconds']:.1f} |"
            f" {summary['median_parse_seconds']:.1f} | {summary['median_rows_per_second']:,.0f} |"
            f" {summary['median_incident_load_seconds']:.1f} |"
            f" {summary['median_incident_load_cpu_seconds']:.1f} |"
            f" {summary['median_incident_load_rows_per_second']:,.0f} | {cpu_rate} |"
            f" {summary['max_peak_rss_mb']:,.0f} | {summary['median_load_average_before']:.1f} |"
        )
    lines += [
        "",
        "Targets: at least 100,000 incident rows per second into SQLite and under 3 GB peak"
        ' memory at 500,000 employers and 3 million incidents. "Incident load" is the'
        " incident table's upsert alone (key sort, conversion, `executemany` or `COPY`, index"
        ' rebuild); "rows/s, whole ingest" divides all rows of the three files by the'
        " median time. CPU seconds are this process's CPU time over all its threads; for"
        " PostgreSQL they leave out the server's own work. A load average above the CPU count"
        " means other processes shared the machine, which lengthens wall-clock times but"
        " not CPU times.",
        "",
        f"Raw results: `benchmarks/results/{result['file']}` (not committed).",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Generate the exports, time the ingest runs and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employers", type=int, default=500_000, help="employers in the export")
    parser.add_argument("--incidents", type=int, default=3_000_000, help="incidents in the export")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per database")
    parser.add_argument("--no-postgres", action="store_true", help="time SQLite only")
    parser.add_argument("--no-doc", action="store_true", help="do not update docs/benchmarks.md")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.data)))  # noqa: T201
        return

    command = "python -m benchmarks.bench_ingest " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    result: dict[str, Any] = {
        "command": command.strip(),
        "machine": _machine(),
        "employers": args.employers,
        "incidents": args.incidents,
        "runs": args.runs,
    }
    print(f"machine: {result['machine']}\ncommand: {result['command']}", flush=True)  # noqa: T201
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as scratch:
        folder = Path(scratch) / "exports"
        started = time.perf_counter()
        paths = write_exports(folder, args.employers, args.incidents)
        result["export_mb"] = sum(path.stat().st_size for path in paths.values()) / 1024**2
        print(f"wrote exports in {time.perf_counter() - started:.1f} s", flush=True)  # noqa: T201
        runs = {"sqlite": _sqlite_runs(folder, args.runs, Path(scratch))}
        if not args.no_postgres:
            runs["postgresql"] = _postgres_runs(folder, args.runs)
    result["raw_runs"] = runs
    result["summary"] = {
        database: found if isinstance(found, str) else _summary(found, args.incidents)
        for database, found in runs.items()
    }

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    result["file"] = f"ingest_{time.strftime('%Y%m%d-%H%M%S')}.json"
    (RESULTS_DIR / result["file"]).write_text(json.dumps(result, indent=2), encoding="utf-8")
    section = _doc_section(result)
    print(section)  # noqa: T201
    if not args.no_doc:
        write_doc_section("Ingest", section)


if __name__ == "__main__":
    main()
