"""Shared pytest set-up.

pytest puts this folder on ``sys.path`` because it contains a conftest.py, which
lets test modules in sub-folders import the builders in ``factories.py``.

That also makes the folders ``tests/risk``, ``tests/training`` and ``tests/api``
importable as namespace packages named like the project's packages. A regular
package anywhere on ``sys.path`` takes precedence over a namespace package, so
the repository root goes on ``sys.path`` too. Without it, ``import training``
would find ``tests/training`` before the editable install's import hook runs.
"""

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.append(_ROOT)


# ---------------------------------------------------------------------------
# Store fixtures: a migrated SQLite file, and a throwaway PostgreSQL database.

POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"
POSTGRES_MAINTENANCE_DB = "test"


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated SQLite store in a file under ``tmp_path``."""
    # Imported here, once the repository root is on sys.path (see the module docstring).
    from risk.store import create_store_engine, upgrade_store

    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_store(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of the PostgreSQL server at 127.0.0.1:5432; skips the test when it is unreachable."""
    try:
        with psycopg.connect(f"{POSTGRES_SERVER}/{POSTGRES_MAINTENANCE_DB}", connect_timeout=3):
            pass
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL server at 127.0.0.1:5432 is unreachable: {exc}")
    return POSTGRES_SERVER


@pytest.fixture
def postgres_engine(postgres_server: str) -> Iterator[Engine]:
    """A migrated throwaway PostgreSQL database, dropped after the test."""
    from risk.store import create_store_engine, upgrade_store

    name = f"injury_risk_test_{uuid.uuid4().hex[:12]}"
    admin_url = f"{postgres_server}/{POSTGRES_MAINTENANCE_DB}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    engine = create_store_engine(f"{postgres_server}/{name}")
    try:
        upgrade_store(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated store, once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_engine" if request.param == "sqlite" else "postgres_engine"
    return request.getfixturevalue(fixture)
