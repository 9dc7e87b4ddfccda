"""One employer: its risk score, explanation, history and what-if scores.

Every request here is written to the audit log with the status it ended in,
refused ones included. A district-scoped key gets 404 for an employer outside
its districts, the same answer as for an unknown employer, so a key cannot
probe which credit codes exist elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Response
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api import presenters
from api.audit import audited_read
from api.auth import SCORE_READERS, ApiKeyPrincipal, Role
from api.deps import LanguageDep, PrincipalDep, ScoredDep, ScoredState, Services, ServicesDep
from api.problems import ProblemError
from api.schemas import (
    EmployerHistoryPublic,
    ExplanationPublic,
    RiskScorePublic,
    WhatIfPublic,
    WhatIfRequest,
)
from risk.errors import InputDataError
from risk.scoring import BandThresholds
from risk.store.employer_history import read_employer_history
from risk.store.scores import (
    RunSnapshot,
    read_employer_explanation,
    read_employer_score,
    read_score_history,
)
from risk.what_if import score_what_if

router = APIRouter(prefix="/v1/employers", tags=["employers"])

T = TypeVar("T")

EmployerIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=32,
        pattern=r"^[0-9A-Za-z_-]+$",
        description="统一社会信用代码 (unified social credit code) or the source's employer id.",
    ),
]
_NOT_FOUND = {404: {"description": "Unknown employer, or outside the key's districts."}}


def require_role(principal: ApiKeyPrincipal, allowed: frozenset[Role]) -> None:
    """Raise 403 unless the key's role is in ``allowed``."""
    if principal.role not in allowed:
        names = ", ".join(sorted(role.value for role in allowed))
        raise ProblemError("forbidden-role", role=principal.role.value, allowed=names)


def visible_or_404(
    principal: ApiKeyPrincipal, employer_id: str, found: T | None, district_of: Callable[[T], str]
) -> T:
    """Return ``found``; raise 404 when it is None or outside the key's districts."""
    if found is None or not principal.may_read_district(district_of(found)):
        raise ProblemError("employer-not-found", employer_id=employer_id)
    return found


@contextmanager
def _audited(
    services: Services,
    principal: ApiKeyPrincipal,
    endpoint: str,
    employer_id: str,
    scored: ScoredState,
) -> Iterator[None]:
    with audited_read(
        services.audit,
        principal,
        endpoint,
        employer_id,
        scored.state.model_version,
        scored.run.as_of,
    ):
        require_role(principal, SCORE_READERS)
        yield


async def _from_run(
    services: Services,
    scored: ScoredState,
    employer_id: str,
    in_memory: Callable[[RunSnapshot, str], T | None],
    from_store: Callable[[Engine, int, str], T | None],
) -> T | None:
    """Read one employer's stored result from the run in memory, or from the store."""
    snapshot = scored.state.snapshot
    if snapshot is not None:
        return in_memory(snapshot, employer_id)
    return await run_in_threadpool(from_store, services.engine, scored.run.run_id, employer_id)


# The two reads below are ``async``: with the run in memory they do a dictionary lookup and
# format a response (well under a millisecond), which costs less on the event loop than a hop
# to a worker thread. Without the snapshot only the store read goes to a thread.
@router.get("/{employer_id}/risk", response_model=RiskScorePublic, responses=_NOT_FOUND)
async def read_risk(
    employer_id: EmployerIdPath,
    principal: PrincipalDep,
    scored: ScoredDep,
    services: ServicesDep,
    language: LanguageDep,
) -> Response:
    """Return the employer's risk score, band and percentiles from the served scoring run."""
    with _audited(services, principal, "GET /v1/employers/{employer_id}/risk", employer_id, scored):
        found = await _from_run(
            services, scored, employer_id, RunSnapshot.score, read_employer_score
        )
        score = visible_or_404(principal, employer_id, found, lambda score: score.district_code)
        return presenters.json_response(presenters.risk_score(scored, score, language))


@router.get("/{employer_id}/explanation", response_model=ExplanationPublic, responses=_NOT_FOUND)
async def read_explanation(
    employer_id: EmployerIdPath,
    principal: PrincipalDep,
    scored: ScoredDep,
    services: ServicesDep,
    language: LanguageDep,
) -> Response:
    """Return the score with base value, margin, every SHAP contribution and the reasons."""
    endpoint = "GET /v1/employers/{employer_id}/explanation"
    with _audited(services, principal, endpoint, employer_id, scored):
        found = await _from_run(
            services, scored, employer_id, RunSnapshot.explanation, read_employer_explanation
        )
        stored = visible_or_404(principal, employer_id, found, lambda row: row.score.district_code)
        return presenters.explanation_response(scored, stored, language)


@router.get("/{employer_id}/history", response_model=EmployerHistoryPublic, responses=_NOT_FOUND)
def read_history(
    employer_id: EmployerIdPath,
    principal: PrincipalDep,
    scored: ScoredDep,
    services: ServicesDep,
) -> EmployerHistoryPublic:
    """Return the employer's incidents, hazard findings, training records and past scores."""
    with _audited(
        services, principal, "GET /v1/employers/{employer_id}/history", employer_id, scored
    ):
        found = read_employer_history(services.engine, employer_id)
        history = visible_or_404(
            principal, employer_id, found, lambda row: row.employer.district_code
        )
        past = read_score_history(services.engine, employer_id)
        return presenters.employer_history(scored, history, past)


@router.post("/{employer_id}/what-if", response_model=WhatIfPublic, responses=_NOT_FOUND)
def create_what_if(
    employer_id: EmployerIdPath,
    body: WhatIfRequest,
    principal: PrincipalDep,
    scored: ScoredDep,
    services: ServicesDep,
    language: LanguageDep,
) -> WhatIfPublic:
    """Score the employer live, as stored and with the requested changes."""
    with _audited(
        services, principal, "POST /v1/employers/{employer_id}/what-if", employer_id, scored
    ):
        found = read_employer_explanation(services.engine, scored.run.run_id, employer_id)
        stored = visible_or_404(principal, employer_id, found, lambda row: row.score.district_code)
        context = presenters.run_context(scored.run)
        try:
            result = score_what_if(
                scored.state.model.model,
                context,
                stored.feature_values,
                rectify_open_hazards=body.rectify_open_hazards,
                feature_values=body.feature_values,
                band_thresholds=BandThresholds(**scored.run.band_thresholds),
            )
        except InputDataError as exc:
            raise ProblemError(
                "invalid-what-if",
                reason_zh="；".join(f"{error.column}: {error.reason_zh}" for error in exc.errors),
                reason_en="; ".join(f"{error.column}: {error.reason_en}" for error in exc.errors),
            ) from exc
        return presenters.what_if(scored, employer_id, result, context, language)
