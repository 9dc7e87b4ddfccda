"""Browser tests: Debian's Chromium, headless, driven by Playwright against the live server.

Every test records each request the browser makes and checks that all of
them go to the app's own origin on 127.0.0.1. Screenshots at phone (390 px)
and desktop (1280 px) widths are written to ``test-artifacts/web/``; with
``INJURY_RISK_UPDATE_GUIDE_IMAGES=1`` the user guide's screenshots in
``docs/images/`` are rewritten too.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook
from web_support import ACCOUNTS, ARTIFACTS, FORMULA_NAME, GUIDE_IMAGES, Account

PHONE = {"width": 390, "height": 844}
# Lists the elements that stick out to the right of the viewport, to say what broke the layout.
_PAGE_WIDTH = "document.documentElement.scrollWidth"
_WIDE_ELEMENTS = """() => Array.from(document.querySelectorAll('body *'))
  .filter((element) => element.getBoundingClientRect().right > window.innerWidth + 1)
  .slice(0, 8)
  .map((element) => element.tagName + '#' + element.id + '.' + element.className + ' '
    + Math.round(element.getBoundingClientRect().right))"""
DESKTOP = {"width": 1280, "height": 900}
UPDATE_GUIDE = os.environ.get("INJURY_RISK_UPDATE_GUIDE_IMAGES") == "1"


class Visit:
    """One browser context (fresh cookies) with its page and every request URL it made."""

    def __init__(
        self, browser: Any, base_url: str, viewport: dict[str, int], language: str
    ) -> None:
        self.base_url = base_url
        self.context = browser.new_context(
            viewport=viewport,
            locale=language,
            accept_downloads=True,
            base_url=base_url,
        )
        self.urls: list[str] = []
        self.context.on("request", lambda request: self.urls.append(request.url))
        self.page = self.context.new_page()
        self.page.set_default_timeout(20_000)

    def sign_in(self, account: Account) -> None:
        """Fill in and submit the sign-in form."""
        self.page.goto("/web/login")
        self.page.fill("#username", account.username)
        self.page.fill("#password", account.password)
        self.page.click("#signin-form button[type=submit]")
        self.page.wait_for_load_state("networkidle")

    def shoot(
        self, name: str, *, guide: bool = False, full_page: bool = True, element: str | None = None
    ) -> None:
        """Save a screenshot of the page (or of ``element``) under test-artifacts.

        With ``guide`` and INJURY_RISK_UPDATE_GUIDE_IMAGES=1 it is also copied to
        ``docs/images/guide-<name>.png`` for the user guide.
        """
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        if element is not None:
            self.page.locator(element).screenshot(path=str(path))
        else:
            self.page.screenshot(path=str(path), full_page=full_page)
        if guide and UPDATE_GUIDE:
            GUIDE_IMAGES.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, GUIDE_IMAGES / f"guide-{name}.png")

    def foreign_requests(self) -> list[str]:
        """Return every requested URL whose origin is not the app's."""
        origin = urlsplit(self.base_url)
        return [
            url
            for url in self.urls
            if not url.startswith(("data:", "blob:"))
            and (urlsplit(url).hostname != "127.0.0.1" or urlsplit(url).port != origin.port)
        ]


@pytest.fixture
def visit(browser: Any, live_server: str) -> Iterator[Any]:
    """Open browser contexts on the live server and check, at the end, where they sent requests."""
    opened: list[Visit] = []

    def open_visit(viewport: dict[str, int] = DESKTOP, language: str = "zh-CN") -> Visit:
        opened.append(Visit(browser, live_server, viewport, language))
        return opened[-1]

    yield open_visit
    for item in opened:
        item.context.close()
    for item in opened:
        assert item.urls, "the browser made no request"
        assert item.foreign_requests() == []


def test_browser_inspector_filters_and_opens_employer(visit: Any) -> None:
    """Sign in, filter the ranking by district, open an employer and run a what-if."""
    desktop = visit(DESKTOP)
    desktop.page.goto("/web/login")
    desktop.shoot("signin-desktop", guide=True, full_page=False)
    desktop.sign_in(ACCOUNTS["inspector"])
    page = desktop.page
    assert page.url.endswith("/web/ranking")
    desktop.shoot("ranking-desktop", guide=True, full_page=False)

    page.select_option("#filter-district", "330106")
    page.click("#filter-submit")
    page.wait_for_load_state("networkidle")
    assert "district=330106" in page.url
    subtitles = page.locator("#ranking-table td.employer .sub:not(.narrow)").all_inner_texts()
    assert subtitles
    assert all("西湖区" in text for text in subtitles)
    desktop.shoot("ranking-filtered-desktop", guide=True, full_page=False)

    page.click("#ranking-table td.employer a >> nth=0")
    page.wait_for_selector("#contribution-chart canvas")
    assert int(page.get_attribute("html", "data-charts-ready") or "0") >= 1
    assert page.locator("#reasons li").count() >= 1
    desktop.shoot("employer-desktop", guide=True)

    page.check("#rectify")
    page.click("#what-if-submit")
    page.wait_for_selector("#what-if-result")
    assert "%" in page.inner_text("#what-if-score")
    desktop.shoot("what-if-desktop", guide=True, element="#what-if")


def test_browser_exports_xlsx_readable(visit: Any, tmp_path: Path) -> None:
    """The XLSX export downloads, opens with openpyxl, and escapes formula-like text."""
    desktop = visit(DESKTOP)
    desktop.sign_in(ACCOUNTS["admin"])
    page = desktop.page

    with page.expect_download() as download_info:
        page.click("#export-xlsx")
    target = tmp_path / "ranking.xlsx"
    download_info.value.save_as(target)

    sheet = load_workbook(target, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("排名", "排名变化（正数为上升）", "统一社会信用代码", "单位名称")
    assert [row[0] for row in rows[1:4]] == [1, 2, 3]
    names = [row[3] for row in rows[1:]]
    assert "'" + FORMULA_NAME in names
    assert FORMULA_NAME not in names


def test_browser_switches_language(visit: Any) -> None:
    """The language link switches the page to English and back to Chinese."""
    desktop = visit(DESKTOP)
    desktop.sign_in(ACCOUNTS["inspector"])
    page = desktop.page
    assert page.inner_text("h1") == "风险排名"

    page.click("#lang-switch")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("h1") == "Risk ranking"
    desktop.shoot("ranking-desktop-en", full_page=False)
    page.goto("/web/districts")
    assert page.inner_text("h1") == "District overview"

    page.click("#lang-switch")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("h1") == "区域概览"


def test_browser_trainer_cannot_see_risk_pages(visit: Any) -> None:
    """A trainer lands on its sessions, marks one delivered, and is refused the ranking."""
    phone = visit(PHONE)
    phone.sign_in(ACCOUNTS["trainer"])
    page = phone.page
    assert page.url.endswith("/web/training")
    assert page.locator("nav a[href='/web/ranking']").count() == 0
    phone.shoot("training-phone", guide=True, full_page=False)

    page.locator("form.deliver button").first.click()
    page.wait_for_selector("#delivered-notice")
    assert page.locator(".session.delivered").count() >= 1

    response = page.goto("/web/ranking")
    assert response is not None
    assert response.status == 403
    assert "无权查看此页面" in page.inner_text("main")


def test_browser_phone_layout(visit: Any) -> None:
    """At 390 px the ranking, employer and district pages fit without sideways scrolling."""
    phone = visit(PHONE)
    phone.sign_in(ACCOUNTS["inspector"])
    page = phone.page

    for name, path in (("ranking-phone", "/web/ranking"), ("districts-phone", "/web/districts")):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(_PAGE_WIDTH) <= PHONE["width"], (name, page.evaluate(_WIDE_ELEMENTS))
        phone.shoot(name, guide=True, full_page=False)
    page.goto("/web/ranking")
    page.click("#ranking-table td.employer a >> nth=0")
    page.wait_for_selector("#contribution-chart canvas")
    assert page.evaluate(_PAGE_WIDTH) <= PHONE["width"], page.evaluate(_WIDE_ELEMENTS)
    phone.shoot("employer-phone", guide=True, full_page=False)


def test_browser_desktop_overview_and_model(visit: Any) -> None:
    """The district overview draws its charts and the model page shows the champion at 1280 px."""
    desktop = visit(DESKTOP)
    desktop.sign_in(ACCOUNTS["admin"])
    page = desktop.page

    page.goto("/web/districts")
    page.wait_for_selector("#district-chart canvas")
    assert page.locator("#district-table tbody tr").count() == 4
    desktop.shoot("districts-desktop", guide=True)
    page.goto("/web/model")
    assert page.inner_text("#model-version") == "3"
    desktop.shoot("model-desktop", guide=True)
    page.goto("/web/audit")
    assert page.locator("#audit-table tbody tr").count() >= 1
    desktop.shoot("audit-desktop", guide=True, full_page=False)


def test_browser_api_docs_render_from_the_app(visit: Any) -> None:
    """/docs draws every API operation with Swagger UI served by the app, breaking no CSP rule."""
    desktop = visit(DESKTOP)
    page = desktop.page
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    page.goto("/docs")
    page.wait_for_selector(".opblock-summary-path")
    paths = page.locator(".opblock-summary-path").all_inner_texts()

    assert any("/v1/employers/{employer_id}/explanation" in path for path in paths), paths
    assert [text for text in console if "Content Security Policy" in text] == []
    desktop.shoot("api-docs-desktop", full_page=False)
