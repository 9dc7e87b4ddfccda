"""Sign-in, sign-out and the home page that sends each role to its first page."""

from __future__ import annotations

import hmac
import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from api.auth import Role
from api.web.accounts import end_session, start_session, verify_password
from api.web.context import (
    SESSION_COOKIE,
    SIGN_IN_CSRF_COOKIE,
    Page,
    PageDep,
    PageError,
    PublicPageDep,
    local_target,
    session_token,
)

logger = logging.getLogger(__name__)

router = APIRouter()


def home_path(role: Role) -> str:
    """Return the first page of ``role``: trainers get their sessions, the others the ranking."""
    return "/web/training" if role == Role.TRAINER else "/web/ranking"


def _redirect(page: Page, target: str) -> Response:
    # 303 so that the browser follows a POST with a GET.
    return page.finish(RedirectResponse(target, status_code=303))


@router.get("/")
def read_home(page: PageDep) -> Response:
    """Send the signed-in user to the first page of their role."""
    return _redirect(page, home_path(page.principal.role))


def _sign_in_form(
    page: Page, next_url: str, status: int = 200, error_key: str | None = None
) -> Response:
    # Before a session exists, the form's CSRF token is checked against a
    # cookie set with the form ("double submit"), so another site cannot post it.
    token = secrets.token_urlsafe(32)
    page.cookies[SIGN_IN_CSRF_COOKIE] = page.web.signer.sign(token).decode("utf-8")
    return page.render(
        "signin.html",
        status=status,
        next_url=local_target(next_url),
        sign_in_token=token,
        error_key=error_key,
    )


@router.get("/login")
def read_sign_in(page: PublicPageDep, next: str | None = None) -> Response:
    """Show the sign-in form, or go on when already signed in."""
    if page.session is not None:
        return _redirect(page, local_target(next) if next else home_path(page.principal.role))
    return _sign_in_form(page, next or "/web/")


def _sign_in_token_matches(page: Page, submitted: str) -> bool:
    cookie = page.request.cookies.get(SIGN_IN_CSRF_COOKIE, "")
    expected = (
        page.web.signer.unsign(cookie).decode("utf-8") if page.web.signer.validate(cookie) else ""
    )
    return bool(expected) and hmac.compare_digest(expected, submitted)


@router.post("/login")
async def create_session(
    page: PublicPageDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next_url: Annotated[str, Form(max_length=2000)] = "/web/",
) -> Response:
    """Check the password; on success start a session and go on to ``next_url``."""
    if not _sign_in_token_matches(page, csrf_token):
        raise PageError(page, 403, "error.csrf")
    # Argon2 takes tens of milliseconds: keep it off the event loop.
    user = await run_in_threadpool(
        verify_password, page.services.engine, username.strip(), password
    )
    if user is None:
        logger.info("Failed web sign-in for username %r", username.strip()[:64])
        return _sign_in_form(page, next_url, status=401, error_key="signin.failed")
    token, _ = await run_in_threadpool(
        start_session, page.services.engine, user, page.web.settings.session_hours
    )
    page.cookies[SESSION_COOKIE] = page.web.signer.sign(token).decode("utf-8")
    target = local_target(next_url)
    if target == "/web/":
        target = home_path(user.role)
    response = _redirect(page, target)
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def delete_session(
    page: PageDep, csrf_token: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    """End the session and show the sign-in page."""
    page.check_csrf(csrf_token)
    token = session_token(page.request, page.web)
    if token is not None:
        await run_in_threadpool(end_session, page.services.engine, token)
    logger.info("Web user %s signed out", page.session.user.username if page.session else "?")
    response = _redirect(page, "/web/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
