"""The interactive API documentation at ``/docs``, served without any other host.

FastAPI's own ``/docs`` page loads Swagger UI from a CDN and starts it with an
inline script, so it stays blank on a network without internet access and
breaks the pages' Content-Security-Policy. This page loads the vendored
Swagger UI (``api/web/static/vendor/swagger-ui/``) and a start script from the
app itself.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from api.web.context import SECURITY_HEADERS, STATIC_PREFIX

router = APIRouter(include_in_schema=False)

_VENDOR = f"{STATIC_PREFIX}/vendor/swagger-ui"
_PAGE = f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>接口文档 / API documentation · 工伤预防风险平台</title>
<link rel="icon" type="image/png" href="{_VENDOR}/favicon-32x32.png">
<link rel="stylesheet" href="{_VENDOR}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="/openapi.json"></div>
<script src="{_VENDOR}/swagger-ui-bundle.js"></script>
<script src="{STATIC_PREFIX}/swagger-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def read_docs() -> HTMLResponse:
    """Return the Swagger UI page for ``/openapi.json``."""
    return HTMLResponse(_PAGE, headers=SECURITY_HEADERS)
