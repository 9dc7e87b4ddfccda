"""企业详情: one employer's score, reasons, history and the what-if panel.

Reads are audited like the API's employer endpoints, with the status the
page ended in. An employer outside the user's districts gets the same 404
page as an unknown one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api import presenters
from api.auth import SCORE_READERS
from api.deps import ScoredState
from api.schemas import WhatIfPublic
from api.web import charts
from api.web.context import Page, PageDep, PageError
from api.web.employer_view import history_view
from risk.errors import InputDataError
from risk.scoring import BandThresholds
from risk.store.employer_history import read_employer_history
from risk.store.scores import StoredExplanation, read_employer_explanation, read_score_history
from risk.what_if import decode_features, score_what_if

router = APIRouter()

# Feature families whose values an employer can change, so the what-if form offers them.
_ACTIONABLE_FAMILIES = frozenset({"hazards", "training"})

EmployerIdPath = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_-]+$")]


@contextmanager
def _audited(page: Page, scored: ScoredState, endpoint: str, employer_id: str) -> Iterator[None]:
    status = 200
    try:
        page.require_role(SCORE_READERS)
        yield
    except PageError as exc:
        status = exc.status
        raise
    except Exception:
        status = 500
        raise
    finally:
        page.services.audit.record_reads(
            page.principal,
            endpoint,
            [employer_id],
            status,
            scored.state.model_version,
            scored.run.as_of,
        )


def _visible_explanation(page: Page, scored: ScoredState, employer_id: str) -> StoredExplanation:
    found = read_employer_explanation(page.services.engine, scored.run.run_id, employer_id)
    if found is None or not page.principal.may_read_district(found.score.district_code):
        raise PageError(page, 404, "error.employer_not_found", employer_id=employer_id)
    return found


def _render_employer(
    page: Page,
    scored: ScoredState,
    stored: StoredExplanation,
    what_if: WhatIfPublic | None = None,
    what_if_error: str | None = None,
) -> Response:
    engine = page.services.engine
    employer_id = stored.score.employer_id
    explanation = presenters.explanation(scored, stored, page.language)
    history = read_employer_history(engine, employer_id)
    past = read_score_history(engine, employer_id)
    views: dict[str, Any] = (
        history_view(page.t, history, past, scored.run.as_of) if history is not None else {}
    )
    return page.render(
        "employer.html",
        scored=scored,
        score=stored.score,
        explanation=explanation,
        name=history.employer.name if history is not None else stored.score.name,
        contribution_chart=charts.contributions(explanation, page.t),
        trend_chart=charts.score_trend(past, page.t),
        incident_chart=charts.incidents_by_type(views.get("incident_table"), page.t),
        what_if=what_if,
        what_if_error=what_if_error,
        actionable=actionable_features(page, stored),
        **views,
    )


@router.get("/employers/{employer_id}")
def read_employer_page(employer_id: EmployerIdPath, page: PageDep) -> Response:
    """Show the employer's score, reasons, contributions, trend and records."""
    scored = page.scored()
    with _audited(page, scored, "GET /web/employers/{employer_id}", employer_id):
        stored = _visible_explanation(page, scored, employer_id)
        return _render_employer(page, scored, stored)


def _parse_changes(page: Page, form: Any, stored: StoredExplanation) -> dict[str, float]:
    # Inputs are named "feature:<name>"; only values that differ from the stored ones are changes.
    current = {item["name"]: item["value"] for item in actionable_features(page, stored)}
    changes: dict[str, float] = {}
    for key, raw in form.multi_items():
        name = key.removeprefix("feature:")
        if not key.startswith("feature:") or name not in current or not str(raw).strip():
            continue
        try:
            value = float(str(raw))
        except ValueError as exc:
            raise WhatIfInputError(
                page.t("whatif.invalid_number", label=name, value=str(raw)[:32])
            ) from exc
        if current[name] is None or abs(value - current[name]) > 1e-9:
            changes[name] = value
    return changes


class WhatIfInputError(ValueError):
    """A what-if form value that is not a number."""


def actionable_features(page: Page, stored: StoredExplanation) -> list[dict[str, Any]]:
    """Return the hazard and training features the what-if form lets the user change."""
    scored = page.scored()
    context = presenters.run_context(scored.run)
    labels = context.labels_en if page.language == "en" else context.labels_zh
    values = decode_features(context, stored.feature_values)
    return [
        {"name": name, "label": labels[position], "value": values[name]}
        for position, (name, family) in enumerate(
            zip(context.feature_names, context.families, strict=True)
        )
        if family in _ACTIONABLE_FAMILIES and name not in context.categories
    ]


def _score_scenario(page: Page, employer_id: str, rectify: bool, form: Any) -> Response:
    scored = page.scored()
    with _audited(page, scored, "POST /web/employers/{employer_id}/what-if", employer_id):
        stored = _visible_explanation(page, scored, employer_id)
        context = presenters.run_context(scored.run)
        try:
            changes = _parse_changes(page, form, stored)
            result = score_what_if(
                scored.state.model.model,
                context,
                stored.feature_values,
                rectify_open_hazards=rectify,
                feature_values=changes,
                band_thresholds=BandThresholds(**scored.run.band_thresholds),
            )
        except (InputDataError, WhatIfInputError) as exc:
            return _render_employer(page, scored, stored, what_if_error=str(exc))
        public = presenters.what_if(scored, employer_id, result, context, page.language)
        return _render_employer(page, scored, stored, what_if=public)


@router.post("/employers/{employer_id}/what-if")
async def create_what_if_page(
    employer_id: EmployerIdPath, page: PageDep, request: Request
) -> Response:
    """Score the employer as stored and with the chosen changes, and show both."""
    form = await request.form()
    page.check_csrf(str(form.get("csrf_token", "")))
    rectify = form.get("rectify_open_hazards") is not None
    # Scoring and store reads block: run them in the thread pool, off the event loop.
    return await run_in_threadpool(_score_scenario, page, employer_id, rectify, form)
