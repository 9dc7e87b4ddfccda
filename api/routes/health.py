"""Liveness and readiness probes."""

from __future__ import annotations

import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from api.deps import ServicesDep
from api.schemas import HealthPublic
from risk.errors import StoreError
from risk.store.db import require_current_schema

logger = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic)
async def read_health() -> HealthPublic:
    """Return 200 while the process serves requests; it checks nothing else."""
    return HealthPublic(status="ok")


def _store_check(services: ServicesDep) -> str:
    try:
        with services.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        require_current_schema(services.engine)
    except StoreError as exc:
        return f"not migrated: {exc}"
    except Exception as exc:  # any driver error means "not ready", and is reported as such
        logger.warning("Readiness: store unreachable: %s", exc)
        return f"unreachable: {type(exc).__name__}"
    return "ok"


@router.get(
    "/readyz",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "Not ready; checks say why."}},
)
def read_readiness(services: ServicesDep) -> HealthPublic | JSONResponse:
    """Return 200 when the store is reachable and migrated and a champion with scores is loaded."""
    state = services.holder.current
    checks = {
        "store": _store_check(services),
        "model": "ok"
        if state is not None
        else f"not loaded: {services.holder.last_error or 'no champion'}",
        "scores": "ok"
        if state is not None and state.run is not None
        else "no finished scoring run",
    }
    ready = all(value == "ok" for value in checks.values())
    body = HealthPublic(
        status="ok" if ready else "unavailable",
        model_version=None if state is None else state.model_version,
        as_of=None if state is None or state.run is None else state.run.as_of,
        checks=checks,
    )
    if ready:
        return body
    return JSONResponse(body.model_dump(mode="json"), status_code=503)
