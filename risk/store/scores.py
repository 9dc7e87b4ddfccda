"""Write batch scores with their explanations, and read them back for serving.

A batch is written in three steps: :func:`start_scoring_run` creates the run
(replacing an earlier run of the same model version and ``as_of``),
:func:`write_score_rows` inserts scores and packed contributions in chunks,
and :func:`finish_scoring_run` marks the run finished. Readers only see
finished runs, so a half-written batch is never served.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, bindparam, delete, func, insert, select, update

from risk.errors import StoreError
from risk.store.models import Employer
from risk.store.scoring_models import RiskScore, ScoreContribution, ScoringRun

logger = logging.getLogger(__name__)

_CHUNK_ROWS = 20_000
FINISHED = "finished"

# Columns of the score frame that are stored in ``risk_score``, in table order.
SCORE_COLUMNS = (
    "employer_id",
    "risk_score",
    "expected_injuries",
    "risk_band",
    "margin",
    "risk_rank",
    "industry_code",
    "industry_section",
    "district_code",
    "size_band",
    "insured_headcount",
    "industry_percentile",
    "district_percentile",
    "unknown_categories",
)


@dataclass(frozen=True)
class ScoringRunInfo:
    """A stored scoring run, as the service and reports need it."""

    run_id: int
    model_name: str
    model_version: str
    as_of: dt.date
    horizon_days: int
    base_value: float
    feature_names: tuple[str, ...]
    feature_meta: dict[str, Any]
    peer_means: dict[str, Any]
    band_thresholds: dict[str, float]
    row_count: int
    finished_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StoredScore:
    """One employer's stored score with its employer attributes."""

    employer_id: str
    name: str | None
    risk_score: float
    expected_injuries: float
    risk_band: str
    margin: float
    risk_rank: int
    industry_code: str
    industry_section: str
    district_code: str
    size_band: str
    insured_headcount: int | None
    industry_percentile: float
    district_percentile: float
    unknown_categories: tuple[str, ...]


@dataclass(frozen=True)
class StoredExplanation:
    """One employer's stored score with its contributions and feature values (float32)."""

    score: StoredScore
    contributions: np.ndarray
    feature_values: np.ndarray


@dataclass(frozen=True)
class ScoreFilters:
    """Filters of the ranked list; None means no filter on that attribute."""

    district_codes: frozenset[str] | None = None
    industry_section: str | None = None
    risk_band: str | None = None
    size_band: str | None = None


def start_scoring_run(
    engine: Engine,
    *,
    model_name: str,
    model_version: str,
    as_of: dt.date,
    horizon_days: int,
    base_value: float,
    feature_names: Sequence[str],
    feature_meta: dict[str, Any],
    peer_means: dict[str, Any],
    band_thresholds: dict[str, float],
) -> int:
    """Create a run in state "running" and return its ``run_id``.

    An earlier run of the same model version and ``as_of`` is deleted with its
    rows, so scoring the same date again replaces it instead of duplicating it.
    """
    with engine.begin() as connection:
        earlier = (
            connection.execute(
                select(ScoringRun.run_id).where(
                    ScoringRun.model_name == model_name,
                    ScoringRun.model_version == model_version,
                    ScoringRun.as_of == as_of,
                )
            )
            .scalars()
            .all()
        )
        for run_id in earlier:
            # Explicit deletes: SQLite enforces ON DELETE CASCADE only with foreign keys on.
            connection.execute(delete(ScoreContribution).where(ScoreContribution.run_id == run_id))
            connection.execute(delete(RiskScore).where(RiskScore.run_id == run_id))
            connection.execute(delete(ScoringRun).where(ScoringRun.run_id == run_id))
        result = connection.execute(
            insert(ScoringRun).values(
                model_name=model_name,
                model_version=model_version,
                as_of=as_of,
                horizon_days=horizon_days,
                base_value=float(base_value),
                feature_names=json.dumps(list(feature_names)),
                feature_meta=json.dumps(feature_meta, ensure_ascii=False),
                peer_means=json.dumps(peer_means, ensure_ascii=False),
                band_thresholds=json.dumps(band_thresholds),
                started_at=dt.datetime.now(dt.UTC),
                finished_at=None,
                row_count=0,
                status="running",
            )
        )
    run_id = int(result.inserted_primary_key[0])
    logger.info(
        "Started scoring run %d: model %s version %s, as_of %s",
        run_id,
        model_name,
        model_version,
        as_of,
    )
    return run_id


def write_score_rows(
    engine: Engine,
    run_id: int,
    scores: pd.DataFrame,
    contributions: np.ndarray,
    feature_values: np.ndarray,
) -> int:
    """Insert ``scores`` (columns :data:`SCORE_COLUMNS`) and the packed explanation rows.

    ``contributions`` and ``feature_values`` have one row per score row, in the
    same order, and one column per feature of the run. Returns the row count.
    """
    if len(contributions) != len(scores) or len(feature_values) != len(scores):
        raise ValueError(
            f"contributions ({len(contributions)} rows) and feature_values"
            f" ({len(feature_values)} rows) must match scores ({len(scores)} rows)"
        )
    contributions = np.ascontiguousarray(contributions, dtype="<f4")
    feature_values = np.ascontiguousarray(feature_values, dtype="<f4")
    with engine.begin() as connection:
        for start in range(0, len(scores), _CHUNK_ROWS):
            stop = min(start + _CHUNK_ROWS, len(scores))
            chunk = scores.iloc[start:stop]
            connection.execute(insert(RiskScore), _score_records(run_id, chunk))
            connection.execute(
                insert(ScoreContribution),
                [
                    {
                        "run_id": run_id,
                        "employer_id": employer_id,
                        "contributions": contributions[row].tobytes(),
                        "feature_values": feature_values[row].tobytes(),
                    }
                    for row, employer_id in zip(
                        range(start, stop), chunk["employer_id"].tolist(), strict=True
                    )
                ],
            )
    return len(scores)


def _score_records(run_id: int, chunk: pd.DataFrame) -> list[dict[str, Any]]:
    # tolist() turns numpy scalars into Python ones, which every DB driver accepts.
    columns = {name: chunk[name].tolist() for name in SCORE_COLUMNS}
    headcounts = [
        None if value is None or value != value else int(value)
        for value in columns["insured_headcount"]
    ]
    columns["insured_headcount"] = headcounts
    names = ("run_id", *SCORE_COLUMNS)
    return [
        dict(zip(names, (run_id, *values), strict=True))
        for values in zip(*columns.values(), strict=True)
    ]


def finish_scoring_run(engine: Engine, run_id: int, row_count: int) -> None:
    """Mark the run finished with its row count; from now on readers serve it."""
    with engine.begin() as connection:
        connection.execute(
            update(ScoringRun)
            .where(ScoringRun.run_id == run_id)
            .values(status=FINISHED, row_count=row_count, finished_at=dt.datetime.now(dt.UTC))
        )
    logger.info("Finished scoring run %d with %d rows", run_id, row_count)


def _run_info(row: Any) -> ScoringRunInfo:
    return ScoringRunInfo(
        run_id=row.run_id,
        model_name=row.model_name,
        model_version=row.model_version,
        as_of=row.as_of,
        horizon_days=row.horizon_days,
        base_value=row.base_value,
        feature_names=tuple(json.loads(row.feature_names)),
        feature_meta=json.loads(row.feature_meta),
        peer_means=json.loads(row.peer_means),
        band_thresholds=json.loads(row.band_thresholds),
        row_count=row.row_count,
        finished_at=row.finished_at,
    )


def latest_scoring_run(
    engine: Engine, model_name: str, model_version: str | None = None
) -> ScoringRunInfo | None:
    """Return the finished run with the latest ``as_of`` for the model (and version), or None."""
    conditions = [ScoringRun.model_name == model_name, ScoringRun.status == FINISHED]
    if model_version is not None:
        conditions.append(ScoringRun.model_version == model_version)
    query = (
        select(ScoringRun)
        .where(*conditions)
        .order_by(ScoringRun.as_of.desc(), ScoringRun.run_id.desc())
        .limit(1)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    return None if row is None else _run_info(row)


_SCORE_SELECT = select(
    *(getattr(RiskScore, name) for name in SCORE_COLUMNS), Employer.name
).outerjoin(Employer, Employer.employer_id == RiskScore.employer_id)

# Built once: the per-request statement then skips SQLAlchemy's statement building.
_RUN_EXPLANATIONS = _SCORE_SELECT.add_columns(
    ScoreContribution.contributions, ScoreContribution.feature_values
).join(
    ScoreContribution,
    (ScoreContribution.run_id == RiskScore.run_id)
    & (ScoreContribution.employer_id == RiskScore.employer_id),
)
_EXPLANATION_QUERY = _RUN_EXPLANATIONS.where(
    RiskScore.run_id == bindparam("run_id"), RiskScore.employer_id == bindparam("employer_id")
)
_SCORE_QUERY = _SCORE_SELECT.where(
    RiskScore.run_id == bindparam("run_id"), RiskScore.employer_id == bindparam("employer_id")
)


def _stored_score(row: Any) -> StoredScore:
    return StoredScore(
        employer_id=row.employer_id,
        name=row.name,
        risk_score=row.risk_score,
        expected_injuries=row.expected_injuries,
        risk_band=row.risk_band,
        margin=row.margin,
        risk_rank=row.risk_rank,
        industry_code=row.industry_code,
        industry_section=row.industry_section,
        district_code=row.district_code,
        size_band=row.size_band,
        insured_headcount=row.insured_headcount,
        industry_percentile=row.industry_percentile,
        district_percentile=row.district_percentile,
        unknown_categories=tuple(name for name in row.unknown_categories.split("|") if name),
    )


def read_employer_score(engine: Engine, run_id: int, employer_id: str) -> StoredScore | None:
    """Return one employer's score in run ``run_id``, or None if it has none."""
    with engine.connect() as connection:
        row = connection.execute(
            _SCORE_QUERY, {"run_id": run_id, "employer_id": employer_id}
        ).first()
    return None if row is None else _stored_score(row)


def read_employer_explanation(
    engine: Engine, run_id: int, employer_id: str
) -> StoredExplanation | None:
    """Return one employer's score with contributions and feature values, or None."""
    with engine.connect() as connection:
        row = connection.execute(
            _EXPLANATION_QUERY, {"run_id": run_id, "employer_id": employer_id}
        ).first()
    if row is None:
        return None
    return StoredExplanation(
        score=_stored_score(row),
        contributions=np.frombuffer(row.contributions, dtype="<f4"),
        feature_values=np.frombuffer(row.feature_values, dtype="<f4"),
    )


@dataclass(frozen=True)
class RunSnapshot:
    """Every score and explanation of one finished scoring run, held in memory.

    A finished run never changes, so a service can serve single-employer
    reads from this copy without a store round trip. Contributions and feature
    values are float32 matrices with one row per employer.
    """

    run_id: int
    scores: dict[str, StoredScore]
    positions: dict[str, int]
    contributions: np.ndarray
    feature_values: np.ndarray

    @property
    def nbytes(self) -> int:
        """Bytes held by the two matrices (the score objects come on top)."""
        return int(self.contributions.nbytes + self.feature_values.nbytes)

    def score(self, employer_id: str) -> StoredScore | None:
        """Return the employer's score, or None if the run has none."""
        return self.scores.get(employer_id)

    def explanation(self, employer_id: str) -> StoredExplanation | None:
        """Return the employer's score with its contributions and feature values, or None."""
        position = self.positions.get(employer_id)
        if position is None:
            return None
        return StoredExplanation(
            self.scores[employer_id],
            self.contributions[position],
            self.feature_values[position],
        )


def load_run_snapshot(engine: Engine, run: ScoringRunInfo) -> RunSnapshot:
    """Read every score and explanation of the finished ``run`` into a :class:`RunSnapshot`.

    The matrices are allocated once from the run's row count and filled row by
    row, so loading needs little more memory than the snapshot itself.

    Raises
    ------
    StoreError
        If the stored rows do not match the run's row count.
    """
    started = time.perf_counter()
    n_rows, n_features = run.row_count, len(run.feature_names)
    contributions = np.empty((n_rows, n_features), dtype=np.float32)
    feature_values = np.empty((n_rows, n_features), dtype=np.float32)
    scores: dict[str, StoredScore] = {}
    positions: dict[str, int] = {}
    with engine.connect() as connection:
        rows = connection.execution_options(yield_per=10_000).execute(
            _RUN_EXPLANATIONS.where(RiskScore.run_id == run.run_id)
        )
        for position, row in enumerate(rows):
            if position >= n_rows:
                break
            scores[row.employer_id] = _stored_score(row)
            positions[row.employer_id] = position
            contributions[position] = np.frombuffer(row.contributions, dtype="<f4")
            feature_values[position] = np.frombuffer(row.feature_values, dtype="<f4")
    if len(scores) != n_rows or (n_rows and position != n_rows - 1):
        raise StoreError(
            f"评分批次 {run.run_id} 的行数与记录不符 / scoring run {run.run_id} records"
            f" {n_rows} rows but the store returned a different number; rescore with"
            " `injury-risk score`"
        )

    # Requests share these arrays, so nothing may write to them.
    contributions.flags.writeable = False
    feature_values.flags.writeable = False
    snapshot = RunSnapshot(run.run_id, scores, positions, contributions, feature_values)
    logger.info(
        "Loaded scoring run %d into memory: %d employers, %.1f MB of contributions in %.2f s",
        run.run_id,
        n_rows,
        snapshot.nbytes / 1e6,
        time.perf_counter() - started,
    )
    return snapshot


def read_ranked_scores(
    engine: Engine, run_id: int, filters: ScoreFilters, *, offset: int = 0, limit: int = 50
) -> tuple[list[StoredScore], int]:
    """Return one page of the run's scores, riskiest first, and the filtered total."""
    conditions = [RiskScore.run_id == run_id]
    if filters.district_codes is not None:
        conditions.append(RiskScore.district_code.in_(sorted(filters.district_codes)))
    if filters.industry_section is not None:
        conditions.append(RiskScore.industry_section == filters.industry_section)
    if filters.risk_band is not None:
        conditions.append(RiskScore.risk_band == filters.risk_band)
    if filters.size_band is not None:
        conditions.append(RiskScore.size_band == filters.size_band)
    with engine.connect() as connection:
        total = connection.execute(
            select(func.count()).select_from(RiskScore).where(*conditions)
        ).scalar_one()
        rows = connection.execute(
            _SCORE_SELECT.where(*conditions)
            .order_by(RiskScore.risk_rank)
            .offset(offset)
            .limit(limit)
        ).all()
    return [_stored_score(row) for row in rows], int(total)


@dataclass(frozen=True)
class PastScore:
    """One earlier score of an employer, from any finished run."""

    model_name: str
    model_version: str
    as_of: dt.date
    risk_score: float
    risk_band: str
    risk_rank: int


def read_score_history(engine: Engine, employer_id: str, limit: int = 50) -> list[PastScore]:
    """Return the employer's scores from every finished run, newest ``as_of`` first."""
    query = (
        select(
            ScoringRun.model_name,
            ScoringRun.model_version,
            ScoringRun.as_of,
            RiskScore.risk_score,
            RiskScore.risk_band,
            RiskScore.risk_rank,
        )
        .join(ScoringRun, ScoringRun.run_id == RiskScore.run_id)
        .where(RiskScore.employer_id == employer_id, ScoringRun.status == FINISHED)
        .order_by(ScoringRun.as_of.desc(), ScoringRun.run_id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [PastScore(*row) for row in rows]
