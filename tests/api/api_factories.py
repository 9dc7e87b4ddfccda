"""Small synthetic canonical tables for the scoring and API tests.

Employers have valid credit codes, real industry and district codes, and
injuries drawn from a known rate that grows with headcount, the industry's
risk class and open hazards, so a model fitted on them learns a real signal.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import pandas as pd
import uvicorn
from fastapi import FastAPI
from sqlalchemy import Engine

from api.config import Settings
from risk.credit_code import check_character
from risk.labels import as_of_grid
from risk.model.tracking import TrainingRun
from risk.model.xgb import RiskModel, XGBParams, fit_risk_model
from risk.panel import build_panel
from risk.scoring import ScoreFrame
from risk.store.load import load_tables
from risk.tables import CanonicalTables

INDUSTRIES = {"B0610": 8, "C3311": 5, "C1310": 3, "E4720": 5, "F5130": 2, "I6510": 1}
DISTRICTS = ["330102", "330106", "330109", "330110"]
HAZARDS = ["machine_guarding", "electrical", "fall_protection", "fire_safety"]
START, END = dt.date(2018, 1, 1), dt.date(2024, 12, 31)
MODEL_NAME = "injury-risk"
# District of the scoped test key.
SCOPE_DISTRICT = "330110"
# Small and fast: at most 120 trees per booster on 1,800 rows.
TEST_PARAMS = XGBParams(n_estimators=120, early_stopping_rounds=20, n_jobs=2)


def credit_code(number: int) -> str:
    """Return a valid unified social credit code built from ``number``."""
    first17 = f"91330100{number:09d}"
    return first17 + check_character(first17)


def _employers(n_employers: int, rng: np.random.Generator) -> pd.DataFrame:
    codes = list(INDUSTRIES)
    return pd.DataFrame(
        {
            "employer_id": [credit_code(i + 1) for i in range(n_employers)],
            "name": [f"测试单位{i + 1}" for i in range(n_employers)],
            "industry_code": rng.choice(codes, n_employers),
            "district_code": rng.choice(DISTRICTS, n_employers),
        }
    )


def _random_days(rng: np.random.Generator, size: int) -> pd.Series:
    days = rng.integers(0, (END - START).days + 1, size)
    return pd.Series(pd.Timestamp(START) + pd.to_timedelta(days, unit="D"))


def make_tables(n_employers: int = 300, seed: int = 11) -> CanonicalTables:
    """Return canonical tables with seven years (2018-2024) of history."""
    rng = np.random.default_rng(seed)
    employers = _employers(n_employers, rng)
    headcount = np.round(np.exp(rng.normal(3.5, 1.0, n_employers))).astype(np.int64) + 5
    years = range(START.year, END.year + 1)
    headcounts = pd.DataFrame(
        {
            "employer_id": np.repeat(employers["employer_id"], len(years)),
            "year": np.tile(list(years), n_employers),
            "insured_headcount": np.repeat(headcount, len(years)),
        }
    )

    # Hazard findings first: employers with many open hazards get more injuries.
    n_findings = rng.poisson(3, n_employers)
    finding_owner = np.repeat(np.arange(n_employers), n_findings)
    inspected = _random_days(rng, len(finding_owner))
    still_open = rng.random(len(finding_owner)) < 0.4
    rectified = inspected + pd.to_timedelta(rng.integers(5, 120, len(finding_owner)), unit="D")
    findings = pd.DataFrame(
        {
            "finding_id": [f"H{i:06d}" for i in range(len(finding_owner))],
            "employer_id": employers["employer_id"].to_numpy()[finding_owner],
            "inspected_on": inspected,
            "hazard_category": rng.choice(HAZARDS, len(finding_owner)),
            "hazard_level": np.where(rng.random(len(finding_owner)) < 0.15, "major", "general"),
            "rectified_on": rectified.where(~still_open),
        }
    )

    risk_class = employers["industry_code"].map(INDUSTRIES).to_numpy()
    open_count = np.bincount(finding_owner[still_open], minlength=n_employers)
    yearly_rate = headcount * 0.002 * risk_class * (1 + 0.5 * open_count)
    n_incidents = rng.poisson(yearly_rate * len(years))
    owner = np.repeat(np.arange(n_incidents.size), n_incidents)
    incidents = pd.DataFrame(
        {
            "incident_id": [f"R{i:06d}" for i in range(len(owner))],
            "employer_id": employers["employer_id"].to_numpy()[owner],
            "occurred_on": _random_days(rng, len(owner)),
            "accident_type": rng.choice(["01", "03", "09", "20"], len(owner)),
            "severity": rng.choice(["minor", "serious", "fatal"], len(owner), p=[0.85, 0.13, 0.02]),
            "lost_workdays": pd.array(rng.integers(1, 200, len(owner)), dtype="Int64"),
            "disability_grade": pd.array([pd.NA] * len(owner), dtype="Int64"),
            "is_commuting": rng.random(len(owner)) < 0.1,
        }
    )

    trained = rng.random(n_employers) < 0.3
    trainings = pd.DataFrame(
        {
            "record_id": [f"T{i:05d}" for i in range(int(trained.sum()))],
            "employer_id": employers["employer_id"][trained].to_numpy(),
            "course_id": "C-MACH-01",
            "delivered_on": _random_days(rng, int(trained.sum())),
            "attendees": rng.integers(5, 40, int(trained.sum())),
        }
    )
    return CanonicalTables.from_frames(
        employers=employers,
        headcounts=headcounts,
        incidents=incidents,
        hazard_findings=findings,
        training_records=trainings,
    )


def store_tables(engine: Engine, tables: CanonicalTables) -> None:
    """Load ``tables`` into a migrated store."""
    load_tables(engine, tables.frames())


def fit_model(tables: CanonicalTables, seed: int = 1) -> tuple[RiskModel, pd.DataFrame]:
    """Fit a small risk model on the last six quarterly as_of dates; return it and its panel."""
    panel = build_panel(tables, as_of_grid(tables)[-6:])
    params = XGBParams(**{**TEST_PARAMS.to_dict(), "random_state": seed})
    return fit_risk_model(panel, params=params), panel


@dataclass(frozen=True)
class Fitted:
    """Tables, a model fitted on them and its scores at the latest as_of."""

    tables: CanonicalTables
    panel: pd.DataFrame
    model: RiskModel
    as_of: dt.date
    scores: ScoreFrame


@contextmanager
def running_server(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 30 s")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


@dataclass(frozen=True)
class ScoredStore:
    """A migrated SQLite store holding the tables and one scoring run."""

    url: str
    engine: Engine
    run_id: int


@dataclass(frozen=True)
class Registry:
    """A real MLflow store (SQLite) with the fitted model registered as champion version "1"."""

    tracking_uri: str
    run: TrainingRun


def service_settings(
    store: ScoredStore, registry: Registry, model_name: str = MODEL_NAME
) -> Settings:
    """Settings of a service on the test store and registry, polling every 0.1 s."""
    return Settings(
        database_url=store.url,
        mlflow_tracking_uri=registry.tracking_uri,
        registered_model_name=model_name,
        champion_poll_seconds=0.1,
    )
