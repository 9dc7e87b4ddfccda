"""Web user commands: create, list and disable the accounts that sign in to the web pages."""

from __future__ import annotations

from typing import Annotated

import typer
from sqlalchemy import Engine

from api.auth import Role
from api.cli import app
from api.config import get_settings
from api.web.accounts import create_user, disable_user, generate_password, list_users
from risk.store import create_store_engine
from risk.store.db import require_current_schema

users_app = typer.Typer(help="网页用户 / Web user accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")

_DATABASE_HELP = "SQLAlchemy URL of the store; default INJURY_RISK_DATABASE_URL."


def _engine(database_url: str | None) -> Engine:
    engine = create_store_engine(database_url or get_settings().database_url)
    require_current_schema(engine)
    return engine


@users_app.command("create")
def users_create(
    role: Annotated[Role, typer.Option(help="Role: inspector, trainer, data_scientist or admin.")],
    username: str = typer.Option(..., help="Sign-in name: 2 to 64 letters, digits or _ . @ -."),
    districts: str = typer.Option(
        "",
        help="Comma-separated GB/T 2260 district codes the user may read; default every district.",
    ),
    organisation: str = typer.Option(
        None,
        help="Training organisation (as in the trainer file) whose published sessions it sees.",
    ),
    password: str = typer.Option(
        None, help="Password of at least 10 characters; default a generated one, printed once."
    ),
    replace: bool = typer.Option(
        False,
        "--replace",
        help="Reset the password, role and scope of an existing user; ends its sessions.",
    ),
    database_url: str = typer.Option(None, help=_DATABASE_HELP),
) -> None:
    """Create a web user; a generated password is printed alone on the last line, only this once."""
    chosen = password or generate_password()
    try:
        user = create_user(
            _engine(database_url),
            username,
            role,
            chosen,
            district_codes=districts.split(","),
            organisation=organisation,
            replace=replace,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    scope = ",".join(sorted(user.district_codes)) or "all"
    typer.echo(f"user {user.username} ready (role {user.role.value}, districts {scope})", err=True)
    if password is None:
        typer.echo(chosen)


@users_app.command("list")
def users_list(database_url: str = typer.Option(None, help=_DATABASE_HELP)) -> None:
    """List every web user (never the password hashes)."""
    typer.echo("username\trole\tdistricts\tstatus")
    for user in list_users(_engine(database_url)):
        status = "disabled" if user.disabled else "active"
        scope = ",".join(sorted(user.district_codes)) or "all"
        typer.echo(f"{user.username}\t{user.role.value}\t{scope}\t{status}")


@users_app.command("disable")
def users_disable(
    username: str = typer.Argument(..., help="The username shown by `users list`."),
    database_url: str = typer.Option(None, help=_DATABASE_HELP),
) -> None:
    """Disable a user and sign out all of its sessions."""
    try:
        user = disable_user(_engine(database_url), username)
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"disabled user {user.username}")
