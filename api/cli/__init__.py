"""The ``injury-risk`` command line: one Typer app with a module per command group."""

from __future__ import annotations

import logging

import typer

from api.config import get_settings

app = typer.Typer(
    name="injury-risk",
    help="工伤预防风险平台 / Injury-prevention risk platform.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log DEBUG messages."),
) -> None:
    """Configure logging once for every command."""
    level = logging.DEBUG if verbose else getattr(logging, get_settings().log_level.upper(), 20)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register_commands() -> None:
    # Imported here so each command module can import ``app`` from this package.
    from api.cli import (
        data,  # noqa: F401
        demo,  # noqa: F401
        keys,  # noqa: F401
        model,  # noqa: F401
        plan,  # noqa: F401
        public,  # noqa: F401
        score,  # noqa: F401
        serve,  # noqa: F401
        users,  # noqa: F401
    )


_register_commands()
