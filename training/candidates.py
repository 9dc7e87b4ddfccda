"""Candidate frames for the planner, from stored scores or from a freshly computed score frame.

Both sources give the same two frames: ``candidates`` (one row per employer:
``employer_id``, ``name``, ``district_code``, ``industry_code``, ``headcount``,
``expected_injuries``, ``risk_score``) and ``contributions`` (long:
``employer_id``, ``feature_name``, ``contribution``), the latter restricted
to the accident-type features the hazard profile reads.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select

from risk.scoring import ScoreFrame
from risk.store.models import Employer
from risk.store.scores import latest_scoring_run
from risk.store.scoring_models import RiskScore, ScoreContribution
from risk.tables import CanonicalTables
from training.models import HazardEvidence
from training.profile import accident_feature_group

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CandidateSet:
    """Candidates of one scoring run with their accident-type SHAP contributions."""

    candidates: pd.DataFrame
    contributions: pd.DataFrame
    as_of: dt.date
    model_version: str | None


def _long_contributions(
    ids: Sequence[str], matrix: np.ndarray, feature_names: Sequence[str]
) -> pd.DataFrame:
    """Return the accident-type columns of a contribution matrix as a long frame."""
    keep = [i for i, name in enumerate(feature_names) if accident_feature_group(name) is not None]
    if not keep or len(ids) == 0:
        return pd.DataFrame(columns=["employer_id", "feature_name", "contribution"])
    values = np.asarray(matrix, dtype=float)[:, keep]
    return pd.DataFrame(
        {
            "employer_id": np.repeat(np.asarray(ids, dtype=object), len(keep)),
            "feature_name": np.tile(np.asarray(feature_names, dtype=object)[keep], len(ids)),
            "contribution": values.ravel(),
        }
    )


def candidates_from_score_frame(frame: ScoreFrame, names: pd.Series | None = None) -> CandidateSet:
    """Return the candidates of a score frame computed by :func:`risk.scoring.score_employers`.

    ``names`` maps ``employer_id`` to the employer's name, when known.
    """
    scores = frame.scores
    candidates = pd.DataFrame(
        {
            "employer_id": scores["employer_id"].astype(str).to_numpy(),
            "district_code": scores["district_code"].astype(str).to_numpy(),
            "industry_code": scores["industry_code"].astype(str).to_numpy(),
            "headcount": scores["insured_headcount"].to_numpy(),
            "expected_injuries": scores["expected_injuries"].to_numpy(float),
            "risk_score": scores["risk_score"].to_numpy(float),
        }
    )
    if names is not None:
        candidates["name"] = candidates["employer_id"].map(names)
    contributions = _long_contributions(
        candidates["employer_id"].tolist(), frame.explanation.contributions, frame.feature_names
    )
    return CandidateSet(candidates, contributions, frame.as_of, None)


def candidates_from_store(
    engine: Engine, model_name: str, model_version: str | None = None
) -> CandidateSet | None:
    """Return the candidates of the latest finished scoring run of the model, or None if none.

    Parameters
    ----------
    engine : Engine
        The store.
    model_name : str
        Registered model name whose runs to read.
    model_version : str, optional
        Restrict to runs of this version.
    """
    run = latest_scoring_run(engine, model_name, model_version)
    if run is None:
        return None
    query = (
        select(
            RiskScore.employer_id,
            RiskScore.district_code,
            RiskScore.industry_code,
            RiskScore.insured_headcount,
            RiskScore.expected_injuries,
            RiskScore.risk_score,
            Employer.name,
            ScoreContribution.contributions,
        )
        .outerjoin(Employer, Employer.employer_id == RiskScore.employer_id)
        .outerjoin(
            ScoreContribution,
            (ScoreContribution.run_id == RiskScore.run_id)
            & (ScoreContribution.employer_id == RiskScore.employer_id),
        )
        .where(RiskScore.run_id == run.run_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    candidates = pd.DataFrame(
        {
            "employer_id": [row.employer_id for row in rows],
            "name": [row.name for row in rows],
            "district_code": [row.district_code for row in rows],
            "industry_code": [row.industry_code for row in rows],
            "headcount": [row.insured_headcount for row in rows],
            "expected_injuries": [row.expected_injuries for row in rows],
            "risk_score": [row.risk_score for row in rows],
        }
    )
    width = len(run.feature_names)
    matrix = (
        np.vstack(
            [
                np.frombuffer(row.contributions, dtype="<f4")
                if row.contributions is not None
                else np.zeros(width, dtype="<f4")
                for row in rows
            ]
        )
        if rows
        else np.zeros((0, width))
    )
    contributions = _long_contributions(
        candidates["employer_id"].tolist(), matrix, run.feature_names
    )
    logger.info(
        "Read %d candidates from scoring run %d (model version %s, as_of %s)",
        len(candidates),
        run.run_id,
        run.model_version,
        run.as_of,
    )
    return CandidateSet(candidates, contributions, run.as_of, run.model_version)


def evidence_from_tables(
    tables: CanonicalTables, contributions: pd.DataFrame | None
) -> HazardEvidence:
    """Return the planner's evidence from the canonical tables and SHAP contributions."""
    return HazardEvidence(
        contributions=contributions,
        incidents=tables.incidents,
        hazard_findings=tables.hazard_findings,
        training_records=tables.training_records,
        employers=tables.employers[["employer_id", "industry_code"]],
    )
