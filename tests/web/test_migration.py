"""Migration 0004: it creates the web tables exactly as the models declare them, and reverts."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import api.web.db_models  # noqa: F401  (registers the web tables on Base)
import training.db_models  # noqa: F401  (registers the plan tables on Base)
from risk.store import Base, create_store_engine, current_revision, upgrade_store

MIGRATIONS = Path(__file__).resolve().parents[2] / "risk" / "store" / "migrations"


def test_migration_matches_models(tmp_path: Path) -> None:
    """After upgrading, Alembic finds no difference between the store and the models."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_store(engine)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []
    assert {"web_user", "web_session"} <= set(inspect(engine).get_table_names())


def test_migration_downgrade_drops_web_tables(tmp_path: Path) -> None:
    """Downgrading to 0003 removes the web tables and keeps the others."""
    engine = create_store_engine(f"sqlite:///{tmp_path / 'store.db'}")
    upgrade_store(engine)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    command.downgrade(config, "0003")

    tables = set(inspect(engine).get_table_names())
    assert current_revision(engine) == "0003"
    assert "web_user" not in tables
    assert "api_key" in tables
