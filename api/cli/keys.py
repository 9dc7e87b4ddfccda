"""API key commands: create, list and revoke keys."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import Engine

from api.auth import Role, create_api_key, list_api_keys, revoke_api_key
from api.cli import app
from api.config import get_settings
from risk.store import create_store_engine
from risk.store.db import require_current_schema

keys_app = typer.Typer(help="API 密钥 / API keys.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

_DATABASE_HELP = "SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."


def _engine(database_url: str | None) -> Engine:
    engine = create_store_engine(database_url or get_settings().database_url)
    require_current_schema(engine)
    return engine


@keys_app.command("create")
def keys_create(
    role: Annotated[
        Role, typer.Option(help="Role of the key: inspector, trainer, data_scientist or admin.")
    ],
    districts: str = typer.Option(
        "",
        help="Comma-separated GB/T 2260 district codes the key may read; default every district.",
    ),
    label: str = typer.Option("", help="Free text shown by `keys list`, e.g. who holds the key."),
    database_url: str = typer.Option(None, help=_DATABASE_HELP),
) -> None:
    """Create a key; the key itself is printed alone on the last line, and only this once."""
    try:
        key, info = create_api_key(_engine(database_url), role, districts.split(","), label)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    scope = ",".join(info.district_codes) or "all"
    typer.echo(f"created key {info.key_id} (role {info.role}, districts {scope})", err=True)
    typer.echo(key)


@keys_app.command("list")
def keys_list(database_url: str = typer.Option(None, help=_DATABASE_HELP)) -> None:
    """List every key (never the secrets), revoked ones included."""
    typer.echo("key_id\trole\tdistricts\tcreated_at\trevoked_at\tlabel")
    for info in list_api_keys(_engine(database_url)):
        revoked = info.revoked_at.isoformat() if info.revoked_at else "-"
        typer.echo(
            f"{info.key_id}\t{info.role}\t{','.join(info.district_codes) or 'all'}\t"
            f"{info.created_at.isoformat()}\t{revoked}\t{info.label}"
        )


@keys_app.command("revoke")
def keys_revoke(
    key_id: str = typer.Argument(..., help="The key_id shown by `keys list`."),
    database_url: str = typer.Option(None, help=_DATABASE_HELP),
) -> None:
    """Revoke a key; a running service rejects it within INJURY_RISK_API_KEY_CACHE_SECONDS."""
    try:
        info = revoke_api_key(_engine(database_url), key_id)
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(
        f"revoked key {info.key_id} at {info.revoked_at.isoformat() if info.revoked_at else '?'}"
    )
