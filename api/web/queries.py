"""Store reads of the web pages that the API's readers do not cover.

The ranking page needs a name search, the rank of each employer in the
previous scoring run and the packed contributions (for the top reason) in
one read. The district overview needs counts by district and industry
section. Both read the tables of :mod:`risk.store.scoring_models`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine, case, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from risk.scoring import RISK_BAND_CODES
from risk.store.models import Employer
from risk.store.scores import FINISHED, ScoringRunInfo, StoredScore
from risk.store.scoring_models import RiskScore, ScoreContribution, ScoringRun

_SCORE_COLUMNS = (
    RiskScore.employer_id,
    RiskScore.risk_score,
    RiskScore.expected_injuries,
    RiskScore.risk_band,
    RiskScore.margin,
    RiskScore.risk_rank,
    RiskScore.industry_code,
    RiskScore.industry_section,
    RiskScore.district_code,
    RiskScore.size_band,
    RiskScore.insured_headcount,
    RiskScore.industry_percentile,
    RiskScore.district_percentile,
    RiskScore.unknown_categories,
)
_PREVIOUS = aliased(RiskScore, name="previous_score")


@dataclass(frozen=True)
class RankingFilters:
    """Filters of the ranking page; None means no filter on that attribute."""

    district_codes: frozenset[str] | None = None
    industry_section: str | None = None
    risk_band: str | None = None
    size_band: str | None = None
    # Matches the start of the credit code or any part of the employer's name.
    search: str | None = None


@dataclass(frozen=True)
class RankedRow:
    """One ranking row: the stored score, last run's rank and the packed explanation."""

    score: StoredScore
    previous_rank: int | None
    contributions: np.ndarray
    feature_values: np.ndarray

    @property
    def rank_change(self) -> int | None:
        """Places moved up the ranking since the previous run (negative: moved down)."""
        if self.previous_rank is None:
            return None
        return self.previous_rank - self.score.risk_rank


@dataclass(frozen=True)
class GroupCounts:
    """Employers, expected injuries and band counts of one district or industry section."""

    code: str
    employers: int
    expected_injuries: float
    band_counts: dict[str, int]


def previous_run_id(engine: Engine, run: ScoringRunInfo) -> int | None:
    """Return the finished run of the same model name with the latest earlier ``as_of``, or None."""
    query = (
        select(ScoringRun.run_id)
        .where(
            ScoringRun.model_name == run.model_name,
            ScoringRun.status == FINISHED,
            ScoringRun.as_of < run.as_of,
        )
        .order_by(ScoringRun.as_of.desc(), ScoringRun.run_id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        found = connection.execute(query).scalar()
    return None if found is None else int(found)


def _like_pattern(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(run_id: int, filters: RankingFilters) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [RiskScore.run_id == run_id]
    if filters.district_codes is not None:
        conditions.append(RiskScore.district_code.in_(sorted(filters.district_codes)))
    if filters.industry_section is not None:
        conditions.append(RiskScore.industry_section == filters.industry_section)
    if filters.risk_band is not None:
        conditions.append(RiskScore.risk_band == filters.risk_band)
    if filters.size_band is not None:
        conditions.append(RiskScore.size_band == filters.size_band)
    if filters.search:
        pattern = _like_pattern(filters.search)
        conditions.append(
            or_(
                RiskScore.employer_id.like(pattern.upper() + "%", escape="\\"),
                Employer.name.like("%" + pattern + "%", escape="\\"),
            )
        )
    return conditions


def _stored_score(row: object) -> StoredScore:
    values = row._mapping  # type: ignore[attr-defined]
    return StoredScore(
        employer_id=values["employer_id"],
        name=values["name"],
        risk_score=values["risk_score"],
        expected_injuries=values["expected_injuries"],
        risk_band=values["risk_band"],
        margin=values["margin"],
        risk_rank=values["risk_rank"],
        industry_code=values["industry_code"],
        industry_section=values["industry_section"],
        district_code=values["district_code"],
        size_band=values["size_band"],
        insured_headcount=values["insured_headcount"],
        industry_percentile=values["industry_percentile"],
        district_percentile=values["district_percentile"],
        unknown_categories=tuple(name for name in values["unknown_categories"].split("|") if name),
    )


def read_ranking(
    engine: Engine,
    run_id: int,
    previous_run: int | None,
    filters: RankingFilters,
    *,
    offset: int = 0,
    limit: int | None = 50,
) -> tuple[list[RankedRow], int]:
    """Return one page of the run's scores, riskiest first, and the filtered total.

    ``limit=None`` returns every matching row (for exports).
    """
    conditions = _conditions(run_id, filters)
    count_query = select(func.count()).select_from(RiskScore).where(*conditions)
    if filters.search:
        count_query = count_query.outerjoin(Employer, Employer.employer_id == RiskScore.employer_id)
    rows_query = (
        select(
            *_SCORE_COLUMNS,
            Employer.name,
            _PREVIOUS.risk_rank.label("previous_rank"),
            ScoreContribution.contributions,
            ScoreContribution.feature_values,
        )
        .outerjoin(Employer, Employer.employer_id == RiskScore.employer_id)
        .outerjoin(
            _PREVIOUS,
            (_PREVIOUS.run_id == (previous_run if previous_run is not None else -1))
            & (_PREVIOUS.employer_id == RiskScore.employer_id),
        )
        .outerjoin(
            ScoreContribution,
            (ScoreContribution.run_id == RiskScore.run_id)
            & (ScoreContribution.employer_id == RiskScore.employer_id),
        )
        .where(*conditions)
        .order_by(RiskScore.risk_rank)
        .offset(offset)
        .limit(limit)
    )
    with engine.connect() as connection:
        total = connection.execute(count_query).scalar_one()
        rows = connection.execute(rows_query).all()
    ranked = [
        RankedRow(
            score=_stored_score(row),
            previous_rank=row.previous_rank,
            contributions=np.frombuffer(row.contributions or b"", dtype="<f4"),
            feature_values=np.frombuffer(row.feature_values or b"", dtype="<f4"),
        )
        for row in rows
    ]
    return ranked, int(total)


def _band_sums() -> list[ColumnElement[int]]:
    return [
        func.sum(case((RiskScore.risk_band == code, 1), else_=0)).label(f"band_{code}")
        for code in RISK_BAND_CODES
    ]


def _group_counts(
    engine: Engine, run_id: int, column: object, district_codes: frozenset[str] | None
) -> list[GroupCounts]:
    conditions: list[ColumnElement[bool]] = [RiskScore.run_id == run_id]
    if district_codes is not None:
        conditions.append(RiskScore.district_code.in_(sorted(district_codes)))
    query = (
        select(
            column.label("code"),
            func.count().label("employers"),  # type: ignore[attr-defined]
            func.sum(RiskScore.expected_injuries).label("expected_injuries"),
            *_band_sums(),
        )
        .where(*conditions)
        .group_by(column)
        .order_by(column)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [
        GroupCounts(
            code=str(row.code),
            employers=int(row.employers),
            expected_injuries=float(row.expected_injuries or 0.0),
            band_counts={code: int(getattr(row, f"band_{code}") or 0) for code in RISK_BAND_CODES},
        )
        for row in rows
    ]


def read_overview(
    engine: Engine, run_id: int, district_codes: frozenset[str] | None
) -> tuple[list[GroupCounts], list[GroupCounts]]:
    """Return the run's counts per district and per industry section, within ``district_codes``."""
    by_district = _group_counts(engine, run_id, RiskScore.district_code, district_codes)
    by_section = _group_counts(engine, run_id, RiskScore.industry_section, district_codes)
    return by_district, by_section
