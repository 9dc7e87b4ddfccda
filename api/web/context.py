"""Page context of the web handlers: the signed-in user, the language, rendering and checks.

Handlers declare ``page: PageDep`` (sign-in required) or ``page: PublicPageDep``
(the sign-in page). The dependencies are plain functions, so FastAPI runs
them in its thread pool and the session's store read does not block the
event loop.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, Signer
from markupsafe import Markup

from api.auth import ApiKeyPrincipal, Role
from api.deps import ScoredState, Services
from api.web.accounts import SignedInSession, read_session
from api.web.i18n import Translator, choose_language
from api.web.settings import WebSettings, load_secret_key

SESSION_COOKIE = "irk_session"
SIGN_IN_CSRF_COOKIE = "irk_signin_csrf"
LANGUAGE_COOKIE = "irk_lang"
STATIC_PREFIX = "/web/static"
_TEMPLATES = Path(__file__).parent / "templates"

# Pages load nothing from another origin: scripts, styles, images and fonts
# come from this app only. ECharts sets element styles from script, which
# style-src 'unsafe-inline' allows; inline scripts stay forbidden.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
        " img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none';"
        " base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class WebState:
    """Objects the pages share, created on the first request."""

    settings: WebSettings
    signer: Signer
    templates: Jinja2Templates


class PageError(Exception):
    """A page that cannot be shown: rendered as an error page with ``status``."""

    def __init__(self, page: Page, status: int, message_key: str, **fields: Any) -> None:
        super().__init__(message_key)
        self.page = page
        self.status = status
        self.message_key = message_key
        self.fields = fields


class SignInRequired(Exception):
    """No valid session: the browser is sent to the sign-in page, then back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        super().__init__(next_url)
        self.next_url = next_url


def _to_json(value: Any) -> Markup:
    # For <script type="application/json">: "<" is escaped, so "</script>" in the
    # data cannot end the element.
    text = json.dumps(value, ensure_ascii=False, default=str).replace("<", "\\u003c")
    return Markup(text)  # noqa: S704 - escaped above for this one context


def _make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(_TEMPLATES))
    templates.env.filters["tojson_script"] = _to_json
    templates.env.globals["static"] = STATIC_PREFIX
    return templates


def web_state(request: Request) -> WebState:
    """Return the app's :class:`WebState`, creating it on first use."""
    state: WebState | None = getattr(request.app.state, "web", None)
    if state is None:
        services: Services = request.app.state.services
        settings = WebSettings()
        signer = Signer(
            load_secret_key(settings, services.settings.var_dir), salt="irk-web-session"
        )
        state = WebState(settings, signer, _make_templates())
        # Two requests racing here build equal objects; either may win.
        request.app.state.web = state
    return state


@dataclass
class Page:
    """One page request: the signed-in user, the page language and the response helpers."""

    request: Request
    services: Services
    web: WebState
    language: str
    t: Translator
    session: SignedInSession | None
    # Set when ``?lang=`` chose the language, so the response stores it in a cookie.
    remember_language: bool = False
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def principal(self) -> ApiKeyPrincipal:
        """The signed-in user as the API's access checks see a caller."""
        if self.session is None:
            raise SignInRequired(self.request.url.path)
        return self.session.user.principal

    def require_role(self, allowed: frozenset[Role]) -> None:
        """Raise a 403 page unless the user's role is in ``allowed``."""
        if self.principal.role not in allowed:
            names = ", ".join(self.t(f"role.{role.value}") for role in sorted(allowed))
            raise PageError(self, 403, "error.forbidden_role", allowed=names)

    def check_csrf(self, token: str | None) -> None:
        """Raise a 403 page unless ``token`` is this session's CSRF token."""
        expected = self.session.csrf_token if self.session is not None else ""
        if not token or not expected or not hmac.compare_digest(token, expected):
            raise PageError(self, 403, "error.csrf")

    def scored(self) -> ScoredState:
        """Return the served model and scoring run, or raise a 503 page when there is none."""
        state = self.services.holder.current
        if state is None or state.run is None:
            raise PageError(self, 503, "error.no_scores")
        return ScoredState(state, state.run)

    def render(self, template: str, status: int = 200, **values: Any) -> HTMLResponse:
        """Render ``template`` with the page's user, language and CSRF token."""
        context = {
            "page": self,
            "t": self.t,
            "lang": self.language,
            "user": None if self.session is None else self.session.user,
            "csrf_token": "" if self.session is None else self.session.csrf_token,
            "path": self.request.url.path,
            "language_link": self.language_link,
            **values,
        }
        response = self.web.templates.TemplateResponse(
            self.request, template, context, status_code=status
        )
        return self.finish(response)

    def language_link(self, language: str) -> str:
        """Return a link to this page in ``language``; after a form post, to the home page."""
        if self.request.method != "GET":
            return "/web/?" + urlencode({"lang": language})
        params = [
            (key, value) for key, value in self.request.query_params.multi_items() if key != "lang"
        ]
        return self.request.url.path + "?" + urlencode([*params, ("lang", language)])

    def finish(self, response: Response) -> Response:
        """Add the security headers and the cookies this page decided to set."""
        response.headers.update(SECURITY_HEADERS)
        if self.remember_language:
            self.set_cookie(
                response, LANGUAGE_COOKIE, self.language, max_age=365 * 86400, http_only=False
            )
        for name, value in self.cookies.items():
            self.set_cookie(response, name, value)
        return response  # type: ignore[return-value]

    def set_cookie(
        self,
        response: Response,
        name: str,
        value: str,
        *,
        max_age: int | None = None,
        http_only: bool = True,
    ) -> None:
        """Set a cookie with SameSite=Lax, and Secure when the settings ask for it."""
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            httponly=http_only,
            samesite="lax",
            secure=self.web.settings.cookie_secure,
        )


def session_token(request: Request, web: WebState) -> str | None:
    """Return the session token of the request's cookie, or None when absent or forged."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        return web.signer.unsign(cookie).decode("utf-8")
    except BadSignature:
        return None


def public_page(request: Request) -> Page:
    """Return the page context without requiring a session."""
    services: Services = request.app.state.services
    web = web_state(request)
    query_language = request.query_params.get("lang")
    language = choose_language(
        query_language, request.cookies.get(LANGUAGE_COOKIE), request.headers.get("accept-language")
    )
    token = session_token(request, web)
    session = None if token is None else read_session(services.engine, token)
    return Page(
        request,
        services,
        web,
        language,
        Translator(language),
        session,
        remember_language=query_language == language,
    )


def signed_in_page(page: Annotated[Page, Depends(public_page)]) -> Page:
    """Return the page context, or send the browser to the sign-in page."""
    if page.session is None:
        target = page.request.url.path
        if page.request.url.query:
            target += "?" + page.request.url.query
        raise SignInRequired(target)
    return page


PublicPageDep = Annotated[Page, Depends(public_page)]
PageDep = Annotated[Page, Depends(signed_in_page)]


def sign_in_url(next_url: str) -> str:
    """Return the sign-in page's URL that leads back to ``next_url``."""
    return "/web/login?next=" + quote(next_url, safe="/")


def local_target(next_url: str | None) -> str:
    """Return ``next_url`` when it is a path on this site, else the home page.

    Only paths under ``/web/`` are followed, so the sign-in form cannot be
    used to send a user to another site ("open redirect").
    """
    if next_url and next_url.startswith("/web/") and not next_url.startswith("//"):
        return next_url
    return "/web/"
