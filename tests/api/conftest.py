"""Fixtures of the scoring and API tests: a fitted model, a scored store, a running server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_factories import (
    MODEL_NAME,
    SCOPE_DISTRICT,
    Fitted,
    Registry,
    ScoredStore,
    fit_model,
    make_tables,
    running_server,
    service_settings,
    store_tables,
)

from api.auth import Role, create_api_key, revoke_api_key
from api.main import create_app
from risk.labels import latest_as_of
from risk.model.tracking import CHAMPION_ALIAS, log_training_run, register_model
from risk.scoring import score_employers, write_score_frame
from risk.store import create_store_engine, upgrade_store


@pytest.fixture(scope="session")
def fitted() -> Fitted:
    """A model fitted on 300 synthetic employers, and its scores as of the data end."""
    tables = make_tables(300)
    model, panel = fit_model(tables)
    as_of = latest_as_of(tables)
    return Fitted(tables, panel, model, as_of, score_employers(tables, model, as_of))


@pytest.fixture(scope="session")
def scored_store(fitted: Fitted, tmp_path_factory: pytest.TempPathFactory) -> ScoredStore:
    """A store with the fitted tables and the scores of model version "1"."""
    path: Path = tmp_path_factory.mktemp("store") / "store.db"
    url = f"sqlite:///{path}"
    engine = create_store_engine(url)
    upgrade_store(engine)
    store_tables(engine, fitted.tables)
    run_id = write_score_frame(engine, fitted.scores, model_name=MODEL_NAME, model_version="1")
    return ScoredStore(url, engine, run_id)


@pytest.fixture(scope="session")
def registry(fitted: Fitted, tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """Log the fitted model and register it under MODEL_NAME with the champion alias."""
    root = tmp_path_factory.mktemp("mlflow")
    tracking_uri = f"sqlite:///{root / 'mlflow.db'}"
    run = log_training_run(
        fitted.model, fitted.panel, tracking_uri=tracking_uri, artifact_root=root / "artifacts"
    )
    register_model(run, tracking_uri=tracking_uri, name=MODEL_NAME, alias=CHAMPION_ALIAS)
    return Registry(tracking_uri, run)


@pytest.fixture(scope="session")
def keys(scored_store: ScoredStore) -> dict[str, str]:
    """One key per role, a district-scoped inspector key and a revoked admin key."""
    engine = scored_store.engine
    created = {
        role.value: create_api_key(engine, role, label=f"test {role.value}")[0] for role in Role
    }
    created["scoped"] = create_api_key(engine, Role.INSPECTOR, [SCOPE_DISTRICT], "test scoped")[0]
    revoked, info = create_api_key(engine, Role.ADMIN, label="test revoked")
    revoke_api_key(engine, info.key_id)
    created["revoked"] = revoked
    return created


@pytest.fixture(scope="session")
def service_url(
    scored_store: ScoredStore, registry: Registry, keys: dict[str, str]
) -> Iterator[str]:
    """Base URL of the API served by uvicorn on 127.0.0.1 for the whole session."""
    with running_server(create_app(service_settings(scored_store, registry))) as url:
        yield url


@pytest.fixture()
def client(service_url: str) -> Iterator[httpx.Client]:
    """An HTTP client of the session's service."""
    with httpx.Client(base_url=service_url, timeout=30) as http:
        yield http
