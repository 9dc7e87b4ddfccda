"""Benchmark the server time of each web page with 20,000 scored employers.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_pages                 # 20,000 employers, 20 runs a page
    .venv/bin/python -m benchmarks.bench_pages --employers 2000 --repeats 5 --no-doc

The script builds a SQLite store in a temporary folder: synthetic tables from
``generate_bench_tables``, a small XGBoost model, two scoring runs a quarter
apart and a stored training plan. It serves the app with uvicorn on 127.0.0.1
in this process and signs in as an administrator through the sign-in form.
Server time is measured by an ASGI wrapper around the app, from the request's
arrival to the last byte of the response, so it leaves out the client and the
network. Each page is requested twice to warm up and then ``--repeats``
times. The median and the 90th percentile are recorded in
``benchmarks/results/web_pages.json`` and the "Web pages" section of
``docs/benchmarks.md``. The target is a median under 300 ms for every page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import socket
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn

from api.config import Settings
from api.main import create_app
from api.serving import LoadedModel
from api.web.accounts import create_user
from benchmarks.features_reference import generate_bench_tables
from benchmarks.report import publish
from risk.labels import as_of_grid, latest_as_of
from risk.model.xgb import RiskModel, XGBParams, fit_risk_model
from risk.panel import build_panel
from risk.scoring import score_employers, write_score_frame
from risk.store import create_store_engine, upgrade_store
from risk.store.load import load_tables
from risk.tables import CanonicalTables
from training.candidates import candidates_from_store, evidence_from_tables
from training.models import PlanBudget, PlanOptions
from training.planner import plan_courses
from training.records import save_plan
from training.service import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "web_pages.json"
MODEL_NAME = "injury-risk"
PASSWORD = "bench-password-1"
TARGET_MS = 300.0
SMALL_ARGS = ["--employers", "2000", "--repeats", "5", "--no-doc"]


class _Champion:
    """Serves the benchmark's fitted model as registry version "1"."""

    def __init__(self, model: RiskModel) -> None:
        self.model = model

    def champion_version(self) -> str | None:
        return "1"

    def load(self, version: str) -> LoadedModel:
        return LoadedModel(version, self.model, {"backtest_roc_auc_mean": 0.0})


class _TimedApp:
    """ASGI wrapper that records how long the app takes to respond to each request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.last_seconds = 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            # Recorded before the last body part is handed over, so the client
            # never reads the time of the previous request.
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                self.last_seconds = time.perf_counter() - started
            await send(message)

        await self.app(scope, receive, timed_send)


def _build_store(folder: Path, n_employers: int) -> tuple[str, RiskModel, CanonicalTables]:
    tables = generate_bench_tables(n_employers, 6, n_employers * 6, seed=7)
    url = f"sqlite:///{folder / 'store.db'}"
    engine = create_store_engine(url)
    upgrade_store(engine)
    load_tables(engine, tables.frames())
    # A small model: page time depends on the number of employers, not on the model's quality.
    panel = build_panel(tables, as_of_grid(tables)[-8:])
    model = fit_risk_model(panel, params=XGBParams(n_estimators=60, early_stopping_rounds=10))
    as_of = latest_as_of(tables)
    for date in (as_of - dt.timedelta(days=91), as_of):
        write_score_frame(
            engine, score_employers(tables, model, date), model_name=MODEL_NAME, model_version="1"
        )
    create_user(engine, "bench-admin", "admin", PASSWORD)
    _store_plan(engine, tables)
    engine.dispose()
    return url, model, tables


def _store_plan(engine: Any, tables: CanonicalTables) -> None:
    candidate_set = candidates_from_store(engine, MODEL_NAME)
    if candidate_set is None:
        raise RuntimeError("the benchmark store has no scoring run to plan from")
    catalogue = load_catalogue()
    plan = plan_courses(
        candidate_set.candidates,
        catalogue.courses,
        catalogue.trainers,
        PlanBudget(max_employers=70),
        effects=catalogue.effects,
        evidence=evidence_from_tables(tables, candidate_set.contributions),
        options=PlanOptions(horizon_weeks=26, time_limit_seconds=60, as_of=candidate_set.as_of),
    )
    save_plan(engine, plan, "benchmark plan", "bench-admin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(app: Any) -> tuple[uvicorn.Server, str]:
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, name="bench-server", daemon=True).start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not start within 120 s")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _sign_in(client: httpx.Client) -> str:
    form = client.get("/web/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("the sign-in page has no CSRF token")
    page = client.post(
        "/web/login",
        data={"username": "bench-admin", "password": PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=True,
    )
    session_token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if page.status_code != 200 or session_token is None:
        raise RuntimeError(f"sign-in failed with status {page.status_code}")
    return session_token.group(1)


def _requests(tables: CanonicalTables, csrf_token: str, rng: np.random.Generator) -> dict[str, Any]:
    ids = tables.employers["employer_id"].to_numpy()
    name = str(tables.employers["name"].iloc[len(ids) // 2])

    def employer() -> tuple[str, str, dict[str, str] | None]:
        return ("GET", f"/web/employers/{rng.choice(ids)}", None)

    def what_if() -> tuple[str, str, dict[str, str] | None]:
        return (
            "POST",
            f"/web/employers/{rng.choice(ids)}/what-if",
            {"csrf_token": csrf_token, "rectify_open_hazards": "1"},
        )

    return {
        "ranking": lambda: ("GET", "/web/ranking", None),
        "ranking, district and band filter": lambda: (
            "GET",
            "/web/ranking?district=330106&band=yellow",
            None,
        ),
        "ranking, name search": lambda: ("GET", f"/web/ranking?q={name[:4]}", None),
        "ranking, page 200": lambda: ("GET", "/web/ranking?page=200", None),
        "employer": employer,
        "employer what-if": what_if,
        "district overview": lambda: ("GET", "/web/districts", None),
        "model": lambda: ("GET", "/web/model", None),
        "audit log": lambda: ("GET", "/web/audit", None),
        "training plans": lambda: ("GET", "/web/training", None),
        "export CSV (all rows)": lambda: ("GET", "/web/ranking/export.csv", None),
        "export XLSX (all rows)": lambda: ("GET", "/web/ranking/export.xlsx", None),
    }


def _measure(
    client: httpx.Client, timed: _TimedApp, request: Any, repeats: int
) -> dict[str, float]:
    times = []
    client_times = []
    for run in range(repeats + 2):
        method, path, form = request()
        started = time.perf_counter()
        response = client.request(method, path, data=form)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise RuntimeError(f"{method} {path} returned {response.status_code}")
        if run >= 2:
            times.append(timed.last_seconds * 1000)
            client_times.append(elapsed * 1000)
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p90_ms": times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))],
        "max_ms": times[-1],
        # Seen by the client, network and parsing included: a check on the server figure.
        "client_median_ms": statistics.median(client_times),
    }


def _doc_section(result: dict[str, Any]) -> str:
    rows = "".join(
        f"| {name} | {item['median_ms']:.0f} | {item['p90_ms']:.0f} | {item['max_ms']:.0f}"
        f" | {item['client_median_ms']:.0f} |\n"
        for name, item in result["pages"].items()
    )
    return (
        "## Web pages\n\n"
        f"`python -m benchmarks.bench_pages --employers {result['employers']} --repeats"
        f" {result['repeats']}` on {result['machine']}: SQLite store, one uvicorn worker on"
        " 127.0.0.1 in the benchmark's process, signed in as an administrator. Server time runs"
        " from the request's arrival to the response's last byte (an ASGI wrapper measures it),"
        " after two warm-up requests per page; employer pages draw a random employer each time."
        " Ranking pages show 50 rows. The last column is the median time seen by the"
        " client over the loopback connection, as a check on the server figure.\n\n"
        "| page | median (ms) | p90 (ms) | max (ms) | client median (ms) |\n"
        "| --- | ---: | ---: | ---: | ---: |\n"
        f"{rows}\n"
        f"Load average when the run started: {result['load']}. Other jobs shared the machine,"
        " so the figures are pessimistic.\n\n"
        f"Target: a median under {TARGET_MS:.0f} ms for every page. The two exports write every"
        f" row of the view ({result['employers']:,} here) and are downloads, not pages; they are"
        " listed for reference.\n"
    )


def main(argv: list[str] | None = None) -> None:
    """Build the store, serve it, time every page and record the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--employers", type=int, default=20_000, help="Employers scored and served."
    )
    parser.add_argument("--repeats", type=int, default=20, help="Timed requests per page.")
    parser.add_argument(
        "--no-doc",
        action="store_true",
        help="Only print: update neither docs/benchmarks.md nor the results file.",
    )
    args = parser.parse_args(argv)

    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        url, model, tables = _build_store(folder, args.employers)
        print(f"built the store in {time.perf_counter() - started:.0f} s", flush=True)  # noqa: T201
        settings = Settings(
            database_url=url,
            var_dir=folder,
            models_dir=folder / "models",
            champion_poll_seconds=3600.0,
        )
        timed = _TimedApp(create_app(settings, champion_source=_Champion(model)))
        server, base_url = _serve(timed)
        try:
            with httpx.Client(base_url=base_url, timeout=120) as client:
                csrf_token = _sign_in(client)
                rng = np.random.default_rng(3)
                pages = {
                    name: _measure(client, timed, request, args.repeats)
                    for name, request in _requests(tables, csrf_token, rng).items()
                }
        finally:
            server.should_exit = True
    result = {
        "employers": args.employers,
        "repeats": args.repeats,
        "pages": pages,
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load": ", ".join(f"{value:.1f}" for value in load),
    }
    publish(result, RESULTS, "Web pages", _doc_section(result), record=not args.no_doc)


if __name__ == "__main__":
    main()
