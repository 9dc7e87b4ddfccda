"""The FastAPI application: factory, lifespan, error handlers and routers.

Run it with ``injury-risk serve`` or ``uvicorn --factory api.main:create_app``.
OpenAPI documentation is at ``/docs`` (Swagger UI) and ``/openapi.json``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.audit import AuditWriter
from api.auth import KeyAuthenticator
from api.config import Settings, get_settings
from api.deps import Services
from api.problems import install_problem_handlers
from api.routes import audit, docs, employers, health, model, plans, risk
from api.serving import ChampionSource, ModelHolder
from api.web import install_web
from risk.store.db import create_store_engine

logger = logging.getLogger(__name__)

DESCRIPTION = """
工伤预防风险平台 API：用人单位风险评分、SHAP 解释、历史记录与模拟评分。
Injury-prevention risk platform API: employer risk scores, SHAP explanations,
histories and what-if scores.

Send an API key as `Authorization: Bearer <key>` (create one with
`injury-risk keys create --role ROLE`). Errors are `application/problem+json`
in Chinese, or in English with `Accept-Language: en`.
"""


def _configure_logging(settings: Settings) -> None:
    # Leave logging alone when a host (uvicorn's CLI, the injury-risk CLI, pytest) set it up.
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(
            level=getattr(logging, settings.log_level.upper(), logging.INFO),
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )


def _default_source(settings: Settings) -> ChampionSource:
    from api.champion import MlflowChampionSource

    return MlflowChampionSource(settings.mlflow_tracking_uri, settings.registered_model_name)


def create_app(
    settings: Settings | None = None, *, champion_source: ChampionSource | None = None
) -> FastAPI:
    """Build the application.

    Parameters
    ----------
    settings : Settings, optional
        Default :func:`api.config.get_settings`, read from ``INJURY_RISK_*``.
    champion_source : ChampionSource, optional
        Where the champion model is loaded from; default the MLflow registry
        at ``settings.mlflow_tracking_uri``.
    """
    settings = settings or get_settings()
    _configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_store_engine(settings.database_url)
        source = champion_source or _default_source(settings)
        holder = ModelHolder(
            engine,
            source,
            settings.registered_model_name,
            settings.champion_poll_seconds,
            keep_runs_in_memory=settings.serve_scores_from_memory,
        )
        audit_writer = AuditWriter(engine)
        audit_writer.start()
        holder.start()
        app.state.services = Services(
            settings=settings,
            engine=engine,
            holder=holder,
            authenticator=KeyAuthenticator(engine, settings.api_key_cache_seconds),
            audit=audit_writer,
        )
        state = holder.current
        logger.info(
            "Service started: model %s version %s",
            settings.registered_model_name,
            None if state is None else state.model_version,
        )
        try:
            yield
        finally:
            holder.stop()
            audit_writer.close()
            engine.dispose()
            logger.info("Service stopped")

    # FastAPI's own /docs and /redoc load their scripts from a CDN; api.routes.docs
    # serves a vendored Swagger UI instead.
    app = FastAPI(
        title="工伤预防风险平台 / Injury-prevention risk platform",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_problem_handlers(app)
    for module in (health, employers, risk, model, audit, docs):
        app.include_router(module.router)
    app.include_router(plans.router)
    install_web(app)
    return app
