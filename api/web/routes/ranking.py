"""风险排名: the ranked list with filters, search, pagination and exports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import presenters
from api.auth import SCORE_READERS
from api.deps import ScoredState
from api.web.context import Page, PageDep, PageError
from api.web.exports import Cell, to_csv, to_xlsx
from api.web.i18n import Translator
from api.web.queries import RankedRow, RankingFilters, previous_run_id, read_ranking
from risk.explain import FeatureContext, explain_reasons, peer_key
from risk.scoring import RISK_BAND_CODES
from risk.size_bands import SIZE_BAND_CODES

router = APIRouter()

_SECTIONS = tuple(chr(code) for code in range(ord("A"), ord("T") + 1))


@dataclass(frozen=True)
class RankingView:
    """The filters of one ranking request, checked against the user's district scope."""

    filters: RankingFilters
    # The query values as submitted (valid ones only), to refill the form and build links.
    selected: dict[str, str]
    page_number: int


def parse_view(page: Page, request: Request) -> RankingView:
    """Read and check the ranking filters of the query string.

    Values outside the code lists are ignored, because a stale bookmark may
    carry them. A district outside the user's scope is rejected with 403, as
    the API does.
    """
    params = request.query_params
    selected: dict[str, str] = {}
    district = params.get("district", "")
    scope = page.principal.district_codes
    if district:
        if scope and district not in scope:
            raise PageError(
                page, 403, "error.district_scope", district=page.t.code("district", district)
            )
        if district in dict(page.t.options("district")):
            selected["district"] = district
    for name, allowed in (
        ("industry", _SECTIONS),
        ("band", RISK_BAND_CODES),
        ("size", SIZE_BAND_CODES),
    ):
        value = params.get(name, "")
        if value in allowed:
            selected[name] = value
    search = params.get("q", "").strip()[:64]
    if search:
        selected["q"] = search
    try:
        page_number = max(1, min(int(params.get("page", "1")), 100_000))
    except ValueError:
        page_number = 1
    districts = frozenset({selected["district"]}) if "district" in selected else (scope or None)
    filters = RankingFilters(
        district_codes=districts,
        industry_section=selected.get("industry"),
        risk_band=selected.get("band"),
        size_band=selected.get("size"),
        search=selected.get("q"),
    )
    return RankingView(filters, selected, page_number)


def top_reason(context: FeatureContext, row: RankedRow, language: str) -> str:
    """Return the employer's strongest reason in ``language``, or a dash when it has none."""
    if row.contributions.size != len(context.feature_names):
        return "—"
    reasons = explain_reasons(
        context,
        row.contributions,
        row.feature_values,
        peer_key(row.score.industry_section, row.score.size_band),
        limit=1,
    )
    if not reasons:
        return "—"
    return reasons[0].text_en if language == "en" else reasons[0].text_zh


def _row_view(t: Translator, context: FeatureContext, row: RankedRow) -> dict[str, Any]:
    score = row.score
    return {
        "rank": score.risk_rank,
        "rank_change": row.rank_change,
        "employer_id": score.employer_id,
        "name": score.name or "—",
        "district": t.code("district", score.district_code),
        "industry_code": score.industry_code,
        "section": t.code("section", score.industry_section),
        "size": t.code("size", score.size_band),
        "headcount": score.insured_headcount,
        "band": score.risk_band,
        "band_label": t.code("band", score.risk_band),
        "risk_score": score.risk_score,
        "expected_injuries": score.expected_injuries,
        "industry_percentile": score.industry_percentile,
        "district_percentile": score.district_percentile,
        "top_reason": top_reason(context, row, t.language),
    }


def _audit(page: Page, scored: ScoredState, endpoint: str, rows: list[RankedRow]) -> None:
    page.services.audit.record_reads(
        page.principal,
        endpoint,
        [row.score.employer_id for row in rows],
        200,
        scored.state.model_version,
        scored.run.as_of,
    )


def _link(selected: dict[str, str], **changes: Any) -> str:
    values = {
        **selected,
        **{key: str(value) for key, value in changes.items() if value is not None},
    }
    return "?" + urlencode(values)


@router.get("/ranking")
def read_ranking_page(page: PageDep, request: Request) -> Response:
    """Show one page of the ranking, riskiest first."""
    page.require_role(SCORE_READERS)
    scored = page.scored()
    view = parse_view(page, request)
    size = page.web.settings.page_size

    previous = previous_run_id(page.services.engine, scored.run)
    rows, total = read_ranking(
        page.services.engine,
        scored.run.run_id,
        previous,
        view.filters,
        offset=(view.page_number - 1) * size,
        limit=size,
    )
    _audit(page, scored, "GET /web/ranking", rows)

    context = presenters.run_context(scored.run)
    pages = max(1, -(-total // size))
    scope = page.principal.district_codes
    district_options = [
        (code, name) for code, name in page.t.options("district") if not scope or code in scope
    ]
    return page.render(
        "ranking.html",
        scored=scored,
        rows=[_row_view(page.t, context, row) for row in rows],
        total=total,
        page_number=view.page_number,
        pages=pages,
        selected=view.selected,
        has_previous_run=previous is not None,
        district_options=district_options,
        section_options=page.t.options("section"),
        band_options=page.t.options("band"),
        size_options=page.t.options("size"),
        export_query=urlencode(view.selected),
        previous_link=_link(view.selected, page=view.page_number - 1)
        if view.page_number > 1
        else None,
        next_link=_link(view.selected, page=view.page_number + 1)
        if view.page_number < pages
        else None,
    )


def _export_table(
    page: Page, scored: ScoredState, request: Request, endpoint: str
) -> tuple[list[str], list[list[Cell]], str | None]:
    page.require_role(SCORE_READERS)
    view = parse_view(page, request)
    limit = page.web.settings.export_max_rows
    previous = previous_run_id(page.services.engine, scored.run)
    rows, total = read_ranking(
        page.services.engine, scored.run.run_id, previous, view.filters, offset=0, limit=limit
    )
    _audit(page, scored, endpoint, rows)

    context = presenters.run_context(scored.run)
    t = page.t
    header = [t(f"export.{name}") for name in _EXPORT_COLUMNS]
    table: list[list[Cell]] = []
    for row in rows:
        item = _row_view(t, context, row)
        table.append(
            [
                item["rank"],
                item["rank_change"],
                item["employer_id"],
                item["name"],
                item["district"],
                item["industry_code"],
                item["section"],
                item["size"],
                item["headcount"],
                item["band_label"],
                round(item["risk_score"], 6),
                round(item["expected_injuries"], 4),
                round(item["industry_percentile"], 1),
                round(item["district_percentile"], 1),
                item["top_reason"],
            ]
        )
    note = t("export.truncated", shown=len(rows), total=total) if total > len(rows) else None
    return header, table, note


_EXPORT_COLUMNS = (
    "rank",
    "rank_change",
    "employer_id",
    "name",
    "district",
    "industry_code",
    "section",
    "size",
    "headcount",
    "band",
    "risk_score",
    "expected_injuries",
    "industry_percentile",
    "district_percentile",
    "top_reason",
)


def _filename(scored: ScoredState, suffix: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S")
    return f"risk-ranking-{scored.run.as_of.isoformat()}-{stamp}.{suffix}"


@router.get("/ranking/export.xlsx")
def read_ranking_xlsx(page: PageDep, request: Request) -> Response:
    """Download the current view of the ranking as an XLSX workbook."""
    scored = page.scored()
    header, table, note = _export_table(page, scored, request, "GET /web/ranking/export.xlsx")
    body = to_xlsx(page.t("ranking.title"), header, table, note)
    response = Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_filename(scored, "xlsx")}"'},
    )
    return page.finish(response)


@router.get("/ranking/export.csv")
def read_ranking_csv(page: PageDep, request: Request) -> Response:
    """Download the current view of the ranking as CSV in UTF-8 with a byte-order mark."""
    scored = page.scored()
    header, table, note = _export_table(page, scored, request, "GET /web/ranking/export.csv")
    if note:
        table.append([note])
    response = Response(
        to_csv(header, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename(scored, "csv")}"'},
    )
    return page.finish(response)
