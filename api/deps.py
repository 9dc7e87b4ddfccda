"""Dependencies of the route handlers, as ``Annotated`` aliases.

The cheap ones (services, served state, language, a cached key) are
``async`` so they run on the event loop without a thread hop; only a key
that needs a store read or scrypt is verified in the thread pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.audit import AuditWriter
from api.auth import ApiKeyPrincipal, KeyAuthenticator
from api.config import Settings, get_settings
from api.problems import ProblemError, preferred_language
from api.serving import ModelHolder, ServingState
from risk.store.scores import ScoringRunInfo


@dataclass(frozen=True)
class Services:
    """Long-lived objects created by the lifespan handler and kept on ``app.state``."""

    settings: Settings
    engine: Engine
    holder: ModelHolder
    authenticator: KeyAuthenticator
    audit: AuditWriter


@dataclass(frozen=True)
class ScoredState:
    """A served state that has a scoring run."""

    state: ServingState
    run: ScoringRunInfo


async def get_services(request: Request) -> Services:
    """Return the services of the running app."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_language(request: Request) -> str:
    """Return "zh" or "en" from ``Accept-Language`` (Chinese unless English is preferred)."""
    return preferred_language(request.headers.get("accept-language"))


LanguageDep = Annotated[str, Depends(get_language)]


async def get_serving_state(services: ServicesDep) -> ServingState:
    """Return the state this request reads, taken once at its start."""
    state = services.holder.current
    if state is None:
        raise ProblemError("model-unavailable")
    return state


ServingDep = Annotated[ServingState, Depends(get_serving_state)]


async def get_scored_state(state: ServingDep) -> ScoredState:
    """Return the served state, or 503 if its model version has no scoring run yet."""
    if state.run is None:
        raise ProblemError("scores-unavailable", model_version=state.model_version)
    return ScoredState(state, state.run)


ScoredDep = Annotated[ScoredState, Depends(get_scored_state)]


async def get_principal(request: Request, services: ServicesDep) -> ApiKeyPrincipal:
    """Return the caller behind ``Authorization: Bearer KEY``, or raise 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    principal = None
    if scheme.lower() == "bearer" and token:
        principal = services.authenticator.lookup_cached(token)
        if principal is None:
            principal = await run_in_threadpool(services.authenticator.authenticate, token)
    if principal is None:
        raise ProblemError("not-authenticated", headers={"WWW-Authenticate": "Bearer"})
    return principal


PrincipalDep = Annotated[ApiKeyPrincipal, Depends(get_principal)]
