"""Web pages for inspectors and trainers (风险排名, 企业详情, 区域概览, 模型, 审计, 培训计划).

Served by the same app as the API, in Simplified Chinese with an English
switch, with every script, style and chart library from ``/web/static``.
:func:`install_web` adds the pages to an app built by :func:`api.main.create_app`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from api.web.context import STATIC_PREFIX, PageError, SignInRequired, sign_in_url

logger = logging.getLogger(__name__)

_STATIC = Path(__file__).parent / "static"


async def _handle_sign_in_required(request: Request, exc: SignInRequired) -> Response:
    return RedirectResponse(sign_in_url(exc.next_url), status_code=303)


async def _handle_page_error(request: Request, exc: PageError) -> Response:
    page = exc.page
    if exc.status >= 500:
        logger.warning("Page %s failed with %d: %s", request.url.path, exc.status, exc.message_key)
    return page.render(
        "error.html",
        status=exc.status,
        message=page.t(exc.message_key, **exc.fields),
        title=page.t(f"error.title_{exc.status}"),
    )


def install_web(app: FastAPI) -> None:
    """Add the web pages, their static files and their error pages to ``app``."""
    from api.web.routes import router

    app.include_router(router)
    app.mount(STATIC_PREFIX, StaticFiles(directory=_STATIC), name="web-static")
    app.add_exception_handler(SignInRequired, _handle_sign_in_required)  # type: ignore[arg-type]
    app.add_exception_handler(PageError, _handle_page_error)  # type: ignore[arg-type]

    @app.get("/", include_in_schema=False)
    async def read_root() -> Response:
        """Send a browser that opens the bare address to the web pages."""
        return RedirectResponse("/web/", status_code=307)
