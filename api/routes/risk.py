"""The ranked list of employers, riskiest first, with filters and pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api import presenters
from api.auth import SCORE_READERS
from api.deps import LanguageDep, PrincipalDep, ScoredDep, ServicesDep
from api.problems import ProblemError
from api.routes.employers import require_role
from api.schemas import RiskBand, RiskListPublic, SizeBand
from risk.store.scores import ScoreFilters, read_ranked_scores

router = APIRouter(prefix="/v1/risk", tags=["risk"])

ENDPOINT = "GET /v1/risk"


@router.get("", response_model=RiskListPublic)
def read_risk_list(
    principal: PrincipalDep,
    scored: ScoredDep,
    services: ServicesDep,
    language: LanguageDep,
    district: Annotated[
        str | None, Query(pattern=r"^\d{6}$", description="GB/T 2260 district code, e.g. 330109.")
    ] = None,
    industry: Annotated[
        str | None, Query(pattern=r"^[A-T]$", description="GB/T 4754 section letter, e.g. C.")
    ] = None,
    band: Annotated[RiskBand | None, Query(description="Risk band.")] = None,
    size: Annotated[SizeBand | None, Query(description="Size band by insured headcount.")] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RiskListPublic:
    """Return one page of employers ranked by risk score; each listed employer is audited."""
    require_role(principal, SCORE_READERS)
    districts = _district_filter(principal.district_codes, district)
    filters = ScoreFilters(districts, industry, band, size)
    rows, total = read_ranked_scores(
        services.engine, scored.run.run_id, filters, offset=offset, limit=limit
    )
    services.audit.record_reads(
        principal,
        ENDPOINT,
        [row.employer_id for row in rows],
        200,
        scored.state.model_version,
        scored.run.as_of,
    )
    return RiskListPublic(
        model_version=scored.state.model_version,
        as_of=scored.run.as_of,
        horizon_days=scored.run.horizon_days,
        total=total,
        offset=offset,
        limit=limit,
        data=[presenters.employer_score(row, language) for row in rows],
    )


def _district_filter(scope: frozenset[str], district: str | None) -> frozenset[str] | None:
    # A scoped key lists its own districts only; asking for another one is refused outright.
    if district is None:
        return scope or None
    if scope and district not in scope:
        raise ProblemError(
            "district-out-of-scope", district_code=district, scope=", ".join(sorted(scope))
        )
    return frozenset({district})
