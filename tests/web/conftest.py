"""Fixtures of the web tests: a scored store with users, a live server and a browser.

The server is the real app (``api.main.create_app``) run by uvicorn on
127.0.0.1 on a free port, in a thread of the test process. The browser is
Debian's Chromium, driven headless by Playwright; browser tests are skipped,
with a message naming it, only where ``/usr/bin/chromium`` is absent.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select, update
from web_factories import MODEL_NAME, FittedChampion, ScoredWebStore, build_scored_store
from web_support import ACCOUNTS, FORMULA_NAME, ORGANISATION, SCOPED_DISTRICT

from api.config import Settings
from api.main import create_app
from api.web.accounts import create_user
from risk.store.models import Employer
from risk.store.scoring_models import RiskScore
from training.candidates import candidates_from_store, evidence_from_tables
from training.models import PlanBudget, PlanOptions
from training.planner import plan_courses
from training.records import change_plan_status, save_plan
from training.service import load_catalogue

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def web_store(tmp_path_factory: pytest.TempPathFactory) -> ScoredWebStore:
    """A store with 300 scored employers (two scoring runs) and one user per role."""
    path = tmp_path_factory.mktemp("web-store") / "store.db"
    store = build_scored_store(f"sqlite:///{path}")
    with store.engine.begin() as connection:
        top = connection.execute(
            select(RiskScore.employer_id).where(RiskScore.risk_rank == 150).limit(1)
        ).scalar_one()
        connection.execute(
            update(Employer).where(Employer.employer_id == top).values(name=FORMULA_NAME)
        )
    for key, account in ACCOUNTS.items():
        create_user(
            store.engine,
            account.username,
            account.role,
            account.password,
            district_codes=[SCOPED_DISTRICT] if key == "scoped" else [],
            organisation=ORGANISATION if account.role == "trainer" else None,
        )
    _publish_plan(store)
    return store


def _publish_plan(store: ScoredWebStore) -> None:
    # A small published plan, so the trainer has sessions to list, download and mark delivered.
    # The evidence comes from the in-memory tables: reading them back with
    # ``read_tables`` would open the SQLite file through a second SQLite library
    # (ADBC) in this process, after which the server's connections fail with
    # "disk I/O error".
    candidate_set = candidates_from_store(store.engine, MODEL_NAME)
    assert candidate_set is not None
    catalogue = load_catalogue()
    plan = plan_courses(
        candidate_set.candidates,
        catalogue.courses,
        catalogue.trainers,
        PlanBudget(max_employers=8),
        effects=catalogue.effects,
        evidence=evidence_from_tables(store.tables, candidate_set.contributions),
        options=PlanOptions(horizon_weeks=8, time_limit_seconds=30, as_of=candidate_set.as_of),
    )
    info = save_plan(store.engine, plan, "测试计划", "admin")
    for action in ("approve", "publish"):
        change_plan_status(store.engine, info.plan_id, info.version, action, "admin")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(
    web_store: ScoredWebStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Serve the app on 127.0.0.1 and yield its base URL."""
    var_dir = tmp_path_factory.mktemp("web-var")
    settings = Settings(
        database_url=web_store.url,
        var_dir=var_dir,
        models_dir=var_dir / "models",
        champion_poll_seconds=3600.0,
    )
    app = create_app(settings, champion_source=FittedChampion(web_store.model))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="web-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start within 60 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    """An HTTP client of the live server that keeps cookies and does not follow redirects."""
    with httpx.Client(base_url=live_server, timeout=30) as http:
        yield http


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, with a fresh profile directory."""
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests need Chromium at {CHROMIUM}; install the Debian package chromium"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        yield launched
        launched.close()
