"""Fixtures of the planner tests: migrated stores on SQLite and on PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from risk.store import create_store_engine, upgrade_store

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
POSTGRES_MAINTENANCE_DB = "test"


@pytest.fixture
def plan_sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store in a file under ``tmp_path``."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_store(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def plan_postgres_engine() -> Iterator[Engine]:
    """A migrated throwaway PostgreSQL database, dropped after the test."""
    admin_url = f"{POSTGRES_SERVER}/{POSTGRES_MAINTENANCE_DB}"
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL server at 127.0.0.1:5432 is unreachable: {exc}")
    name = f"injury_risk_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_store_engine(f"{POSTGRES_SERVER}/{name}")
    try:
        upgrade_store(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def plan_store(request: pytest.FixtureRequest) -> Engine:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    fixture = "plan_sqlite_engine" if request.param == "sqlite" else "plan_postgres_engine"
    engine: Engine = request.getfixturevalue(fixture)
    return engine
