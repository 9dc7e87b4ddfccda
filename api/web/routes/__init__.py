"""Routers of the web pages, all under ``/web``."""

from __future__ import annotations

from fastapi import APIRouter

from api.web.routes import employer, overview, ranking, signin, training

router = APIRouter(prefix="/web", include_in_schema=False)
for module in (signin, ranking, employer, overview, training):
    router.include_router(module.router)
