"""Accounts, constants and HTTP helpers shared by the web tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "web"
GUIDE_IMAGES = ROOT / "docs" / "images"
# District of the scoped inspector; the fixture tables spread employers over four districts.
SCOPED_DISTRICT = "330106"
# Training organisation of the trainer account; the published test plan gives it sessions.
ORGANISATION = "杭州之江安全技术服务有限公司（示例）"
# A name a spreadsheet would run as a formula, given to a mid-ranked employer
# to test the escaping of exports.
FORMULA_NAME = '=HYPERLINK("http://example.invalid","点我")'


@dataclass(frozen=True)
class Account:
    """A web user created for the tests."""

    username: str
    password: str
    role: str


ACCOUNTS = {
    "admin": Account("admin", "admin-password-1", "admin"),
    "inspector": Account("inspector", "inspector-password-1", "inspector"),
    "scoped": Account("xihu", "xihu-password-1", "inspector"),
    "trainer": Account("trainer", "trainer-password-1", "trainer"),
}


def sign_in(client: httpx.Client, account: Account) -> httpx.Response:
    """Sign ``client`` in through the form, as a browser does, and return the final response."""
    form = client.get("/web/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if token is None:
        raise AssertionError("the sign-in form has no CSRF token")
    return client.post(
        "/web/login",
        data={
            "username": account.username,
            "password": account.password,
            "csrf_token": token.group(1),
            "next_url": "/web/",
        },
        follow_redirects=True,
    )


def csrf_token_of(html: str) -> str:
    """Return the session CSRF token embedded in a page's forms."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise AssertionError("the page has no form with a CSRF token")
    return found.group(1)
