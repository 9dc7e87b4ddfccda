"""Error responses as RFC 9457 problem details (``application/problem+json``).

Every error the service returns has the members ``type``, ``title``,
``status``, ``detail`` and ``instance``, plus ``code`` (a stable identifier
for clients) and, for invalid requests, ``errors``. ``title`` and ``detail``
are in Simplified Chinese unless the request's ``Accept-Language`` prefers
English, and the response's ``Content-Language`` says which was chosen.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

logger = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:injury-risk:problem:"

# code -> (status, title_zh, title_en, detail_zh, detail_en); details are str.format templates.
_CATALOG: dict[str, tuple[int, str, str, str, str]] = {
    "employer-not-found": (
        404,
        "未找到用人单位",
        "Employer not found",
        "未找到用人单位 {employer_id}：该编号不存在、尚无评分，或不在本密钥可访问的区县内。",
        "Employer not found: {employer_id!r} does not exist, has no score yet,"
        " or is outside the districts this key may read.",
    ),
    "not-authenticated": (
        401,
        "未认证",
        "Not authenticated",
        "缺少 API 密钥或密钥无效、已吊销；请在请求头中发送 Authorization: Bearer <密钥>。",
        "The API key is missing, invalid or revoked; send it as Authorization: Bearer <key>.",
    ),
    "forbidden-role": (
        403,
        "权限不足",
        "Not enough permissions",
        "角色 {role} 无权访问此接口；需要以下角色之一：{allowed}。",
        "Role {role!r} may not use this endpoint; it needs one of: {allowed}.",
    ),
    "district-out-of-scope": (
        403,
        "区县超出授权范围",
        "District outside the key's scope",
        "区县 {district_code} 不在本密钥的授权范围内；可访问的区县：{scope}。",
        "District {district_code!r} is outside this key's scope; it may read: {scope}.",
    ),
    "scores-unavailable": (
        503,
        "暂无评分",
        "No scores available",
        "服务尚未载入冠军模型的评分（模型版本 {model_version}）；请先运行 `injury-risk score`。",
        "The service has no scores of the champion model (version {model_version}) loaded;"
        " run `injury-risk score` first.",
    ),
    "model-unavailable": (
        503,
        "模型未载入",
        "Model not loaded",
        "服务尚未载入冠军模型；请先训练并发布模型（`injury-risk train`、`injury-risk promote`）。",
        "The service has no champion model loaded; train and promote one first"
        " (`injury-risk train`, `injury-risk promote`).",
    ),
    "invalid-request": (
        422,
        "请求参数无效",
        "Invalid request",
        "请求参数无效（{count} 处）：{locations}。请按接口文档（/docs）修正后重试。",
        "Invalid request ({count} problem(s)) at: {locations}."
        " Fix them as the API documentation (/docs) describes and retry.",
    ),
    "invalid-what-if": (
        422,
        "模拟输入无效",
        "Invalid what-if input",
        "模拟输入无效：{reason_zh}",
        "Invalid what-if input: {reason_en}",
    ),
    "not-found": (
        404,
        "未找到",
        "Not found",
        "路径 {path} 不存在；接口列表见 /docs。",
        "No endpoint at {path!r}; see /docs for the list of endpoints.",
    ),
    # Planning errors carry their message in both languages as "中文 / English".
    # plan_problem() passes each half to its template.
    "plan-infeasible": (
        422,
        "没有满足条件的培训计划",
        "No plan meets the constraints",
        "{message_zh}",
        "{message_en}",
    ),
    "plan-invalid-input": (
        422,
        "计划输入无效",
        "Invalid planning input",
        "{message_zh}",
        "{message_en}",
    ),
    "plan-not-found": (
        404,
        "未找到培训计划",
        "Training plan not found",
        "{message_zh}",
        "{message_en}",
    ),
    "plan-state-conflict": (
        409,
        "计划状态不允许此操作",
        "The plan's state does not allow this",
        "{message_zh}",
        "{message_en}",
    ),
    "plan-unavailable": (
        503,
        "暂时无法生成计划",
        "A plan cannot be built now",
        "{message_zh}",
        "{message_en}",
    ),
    "trainer-key-unlinked": (
        403,
        "培训机构密钥未关联机构",
        "Trainer key not linked",
        "该培训机构密钥尚未关联培训机构；请管理员运行 `injury-risk plans link-key`。",
        "This trainer key is not linked to a training organisation; an administrator"
        " links it with `injury-risk plans link-key`.",
    ),
    "http-error": (
        0,
        "请求错误",
        "Request error",
        "请求失败（HTTP {http_status}）：{message}",
        "The request failed (HTTP {http_status}): {message}",
    ),
    "internal-error": (
        500,
        "服务器内部错误",
        "Internal server error",
        "服务器内部错误；已记录日志，请稍后重试或联系管理员。",
        "Internal server error; it was logged. Retry later or contact the administrator.",
    ),
}


class ProblemError(Exception):
    """An error to be returned as a problem detail with the catalog entry ``code``.

    ``params`` fill the entry's detail templates; ``extra`` members are added
    to the response body as they are and must be JSON-serialisable.
    """

    def __init__(
        self,
        code: str,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if code not in _CATALOG:
            raise ValueError(f"unknown problem code {code!r}; add it to api.problems._CATALOG")
        super().__init__(code)
        self.code = code
        self.status = status or _CATALOG[code][0]
        self.headers = headers or {}
        self.extra = extra or {}
        self.params = params


def split_bilingual(message: str) -> tuple[str, str]:
    """Split a "中文 / English" message into its halves, or return the message twice."""
    zh, separator, en = message.partition(" / ")
    return (zh.strip(), en.strip()) if separator else (message, message)


def plan_problem(code: str, error: Exception, extra: dict[str, Any] | None = None) -> ProblemError:
    """Return the problem ``code`` for a planning error, its message in the caller's language."""
    zh, en = split_bilingual(str(error))
    zh = getattr(error, "message_zh", None) or zh
    en = getattr(error, "message_en", None) or en
    return ProblemError(code, extra=extra, message_zh=zh, message_en=en)


def preferred_language(accept_language: str | None) -> str:
    """Return ``"en"`` when ``Accept-Language`` ranks English above Chinese, else ``"zh"``.

    Languages other than Chinese and English are ignored; without a usable
    header the result is Chinese, the platform's first language.
    """
    best_language, best_quality = "zh", 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, parameters = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("zh", "en"):
            continue
        quality = 1.0
        parameters = parameters.strip()
        if parameters.startswith("q="):
            try:
                quality = float(parameters[2:])
            except ValueError:
                continue
        # Among equal weights the first listed wins, as RFC 9110 orders preferences.
        quality -= position * 1e-6
        if quality > best_quality:
            best_language, best_quality = primary, quality
    return best_language


def problem_response(request: Request, error: ProblemError) -> JSONResponse:
    """Render ``error`` in the request's preferred language."""
    language = preferred_language(request.headers.get("accept-language"))
    _, title_zh, title_en, detail_zh, detail_en = _CATALOG[error.code]
    title = title_en if language == "en" else title_zh
    template = detail_en if language == "en" else detail_zh
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + error.code,
        "title": title,
        "status": error.status,
        "detail": template.format(**error.params),
        "instance": request.url.path,
        "code": error.code,
        **error.extra,
    }
    headers = {"Content-Language": "en" if language == "en" else "zh-CN", **error.headers}
    return JSONResponse(
        body, status_code=error.status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _validation_error_items(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only plain members: pydantic's "input" and "ctx" can hold objects that JSON cannot encode.
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]


async def _handle_problem(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ProblemError):  # pragma: no cover - registered for ProblemError only
        raise exc
    return problem_response(request, exc)


async def _handle_validation(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):  # pragma: no cover
        raise exc
    items = _validation_error_items(exc)
    locations = ", ".join(".".join(item["loc"]) for item in items[:5])
    if len(items) > 5:
        locations += ", …"
    error = ProblemError(
        "invalid-request", count=len(items), locations=locations, extra={"errors": items}
    )
    return problem_response(request, error)


async def _handle_http(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):  # pragma: no cover
        raise exc
    if exc.status_code == 404:
        error = ProblemError("not-found", path=request.url.path)
    else:
        error = ProblemError(
            "http-error",
            status=exc.status_code,
            headers=dict(exc.headers or {}),
            http_status=exc.status_code,
            message=str(exc.detail),
        )
    return problem_response(request, error)


async def _handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(request, ProblemError("internal-error"))


def install_problem_handlers(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem detail."""
    app.add_exception_handler(ProblemError, _handle_problem)
    app.add_exception_handler(RequestValidationError, _handle_validation)
    app.add_exception_handler(StarletteHTTPException, _handle_http)
    app.add_exception_handler(Exception, _handle_unexpected)
