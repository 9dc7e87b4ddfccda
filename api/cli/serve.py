"""The ``serve`` command: run the HTTP API with uvicorn."""

from __future__ import annotations

import typer

from api.cli import app
from api.config import get_settings


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="TCP port to listen on."),
    workers: int = typer.Option(1, help="Worker processes; each loads the model once."),
) -> None:
    """Serve the HTTP API (OpenAPI docs at /docs) with uvicorn."""
    import uvicorn

    typer.echo(f"serving http://{host}:{port} (docs at http://{host}:{port}/docs)", err=True)
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=get_settings().log_level.lower(),
        access_log=False,
    )
