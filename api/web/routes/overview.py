"""区域概览, 模型 and 审计日志: the district overview, the model page and the audit page."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from api.audit import read_audit_log
from api.auth import ADMINS, EVERY_ROLE, SCORE_READERS
from api.presenters import finite_or_none
from api.web import charts
from api.web.context import Page, PageDep
from api.web.db_models import WebUser
from api.web.queries import read_overview

logger = logging.getLogger(__name__)

router = APIRouter()

_AUDIT_PAGE_ROWS = 100
# Largest model card shown on the page; a longer file is cut with a note.
_MAX_CARD_CHARACTERS = 200_000


@router.get("/districts")
def read_overview_page(page: PageDep) -> Response:
    """Show employers, expected injuries and band counts per district and industry section."""
    page.require_role(SCORE_READERS)
    scored = page.scored()
    scope = page.principal.district_codes or None
    by_district, by_section = read_overview(page.services.engine, scored.run.run_id, scope)
    district_labels = [page.t.code("district", group.code) for group in by_district]
    section_labels = [f"{group.code} {page.t.code('section', group.code)}" for group in by_section]
    return page.render(
        "districts.html",
        scored=scored,
        by_district=list(zip(district_labels, by_district, strict=True)),
        by_section=list(zip(section_labels, by_section, strict=True)),
        district_chart=charts.band_counts(
            by_district, district_labels, page.t("districts.chart_district"), page.t
        ),
        section_chart=charts.band_counts(
            by_section,
            [group.code for group in by_section],
            page.t("districts.chart_section"),
            page.t,
        ),
    )


def find_model_card(
    models_dir: Path, model_name: str, version: str, language: str
) -> tuple[Path, str] | None:
    """Return the newest model card Markdown file under ``models_dir`` and its text, or None.

    Files whose name contains ``card`` count; one in a folder or file name that
    carries the model version, or the page language, is preferred.
    """
    if not models_dir.is_dir():
        return None
    cards = [path for path in models_dir.rglob("*.md") if "card" in path.name.lower()]
    if not cards:
        return None

    def preference(path: Path) -> tuple[bool, bool, float]:
        text = str(path.relative_to(models_dir)).lower()
        in_language = ("zh" in text) == (language == "zh")
        return (
            f"v{version}" in text or f"/{version}/" in f"/{text}",
            in_language,
            path.stat().st_mtime,
        )

    # TODO: the promote command's model-card file name is not fixed yet; this
    # picks any "*card*.md" under models_dir, preferring the served version.
    best = max(cards, key=preference)
    return best, best.read_text("utf-8", errors="replace")[:_MAX_CARD_CHARACTERS]


def _metric_rows(metrics: dict[str, float]) -> list[dict[str, Any]]:
    # Backtest means first: they are the figures the promotion gate compares.
    def order(name: str) -> tuple[int, str]:
        return (0 if name.startswith("backtest_") and name.endswith("_mean") else 1, name)

    return [
        {"name": name, "value": finite_or_none(metrics[name])}
        for name in sorted(metrics, key=order)
    ]


@router.get("/model")
def read_model_page(page: PageDep) -> Response:
    """Show the served champion: version, scoring run, metrics and model card (every role)."""
    page.require_role(EVERY_ROLE)
    state = page.services.holder.current
    settings = page.services.settings
    card = None
    if state is not None:
        card = find_model_card(
            Path(settings.models_dir), state.model_name, state.model_version, page.language
        )
    return page.render(
        "model.html",
        state=state,
        run=None if state is None else state.run,
        metrics=[] if state is None else _metric_rows(state.model.metrics),
        card_path=None if card is None else str(card[0]),
        card_text=None if card is None else card[1],
        models_dir=str(settings.models_dir),
    )


def _usernames(page: Page) -> dict[str, str]:
    with page.services.engine.connect() as connection:
        rows = connection.execute(select(WebUser.audit_key_id, WebUser.username)).all()
    return {key_id: username for key_id, username in rows}


@router.get("/audit")
def read_audit_page(page: PageDep, request: Request) -> Response:
    """Show the audit log, newest first, optionally for one employer; admins only."""
    page.require_role(ADMINS)
    employer_id = request.query_params.get("employer_id", "").strip()[:32] or None
    try:
        page_number = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page_number = 1
    page.services.audit.flush()
    entries, total = read_audit_log(
        page.services.engine,
        employer_id=employer_id,
        offset=(page_number - 1) * _AUDIT_PAGE_ROWS,
        limit=_AUDIT_PAGE_ROWS,
    )
    pages = max(1, -(-total // _AUDIT_PAGE_ROWS))
    return page.render(
        "audit.html",
        entries=entries,
        total=total,
        usernames=_usernames(page),
        employer_id=employer_id or "",
        page_number=page_number,
        pages=pages,
    )
