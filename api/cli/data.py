"""Data commands: database migrations, demo data and ingest."""

from __future__ import annotations

import typer

from api.cli import app
from api.config import get_settings
from risk.store import create_store_engine, current_revision, upgrade_store

db_app = typer.Typer(help="数据库结构 / Database schema commands.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    database_url: str = typer.Option(
        None, help="SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."
    ),
) -> None:
    """Create or migrate the store's tables to the newest schema."""
    engine = create_store_engine(database_url or get_settings().database_url)
    upgrade_store(engine)
    typer.echo(f"schema revision: {current_revision(engine)}")
