"""SQLAlchemy models of batch scores and their SHAP explanations.

One :class:`ScoringRun` row describes one batch: the registered model and
version that scored, the ``as_of`` date of the features, the booster's base
value and the feature order. Its scores and explanations hang off ``run_id``,
so every (model version, as_of) pair keeps its own history.

Explanations are stored compactly: one row per employer with the SHAP
contributions and the feature values packed as little-endian float32 arrays
in the run's feature order. A row per (employer, feature) would mean about
40 million rows for 500,000 employers and 80 features.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from risk.store.models import Base


class ScoringRun(Base):
    """评分批次: one batch scoring of every employer by one model version at one ``as_of``."""

    __tablename__ = "scoring_run"

    run_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    model_name: Mapped[str] = mapped_column(String(100))
    model_version: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[dt.date] = mapped_column(Date)
    horizon_days: Mapped[int] = mapped_column(Integer)
    # Log-odds of the uncalibrated booster that the contributions of every row add up from.
    base_value: Mapped[float] = mapped_column(Float)
    # JSON documents: feature names and metadata, peer means for reasons, band thresholds.
    feature_names: Mapped[str] = mapped_column(Text)
    feature_meta: Mapped[str] = mapped_column(Text)
    peer_means: Mapped[str] = mapped_column(Text)
    band_thresholds: Mapped[str] = mapped_column(Text)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    # "running" while rows are written, "finished" once every row is in; readers use finished runs.
    status: Mapped[str] = mapped_column(String(16))

    __table_args__ = (
        UniqueConstraint(
            "model_name", "model_version", "as_of", name="uq_scoring_run_version_as_of"
        ),
        # A replaced run must get a new id on SQLite too: the service detects new runs by id.
        {"sqlite_autoincrement": True},
    )


class RiskScore(Base):
    """风险评分: one employer's calibrated risk score, band and percentiles in one run."""

    __tablename__ = "risk_score"

    run_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("scoring_run.run_id", ondelete="CASCADE"), primary_key=True
    )
    employer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    risk_score: Mapped[float] = mapped_column(Float)
    expected_injuries: Mapped[float] = mapped_column(Float)
    risk_band: Mapped[str] = mapped_column(String(8))
    # Booster margin in log-odds, before calibration; base_value + contributions equals it.
    margin: Mapped[float] = mapped_column(Float)
    # 1 is the riskiest employer of the run; the ranked list pages through this column.
    risk_rank: Mapped[int] = mapped_column(Integer)
    industry_code: Mapped[str] = mapped_column(String(8))
    industry_section: Mapped[str] = mapped_column(String(1))
    district_code: Mapped[str] = mapped_column(String(12))
    size_band: Mapped[str] = mapped_column(String(8))
    insured_headcount: Mapped[int | None] = mapped_column(Integer, nullable=True)
    industry_percentile: Mapped[float] = mapped_column(Float)
    district_percentile: Mapped[float] = mapped_column(Float)
    # "|"-separated names of categorical features whose value the model never saw in training.
    unknown_categories: Mapped[str] = mapped_column(String(400), default="")

    __table_args__ = (
        Index("ix_risk_score_run_rank", "run_id", "risk_rank", unique=True),
        Index("ix_risk_score_run_district_rank", "run_id", "district_code", "risk_rank"),
        Index("ix_risk_score_employer", "employer_id"),
    )


class ScoreContribution(Base):
    """贡献值: one employer's SHAP contributions and feature values in one run.

    ``contributions`` and ``feature_values`` are float32 arrays (little-endian)
    in the order of ``ScoringRun.feature_names``. A categorical feature's value
    is its index in the training categories, NaN when missing or unknown.
    """

    __tablename__ = "score_contribution"

    run_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("scoring_run.run_id", ondelete="CASCADE"), primary_key=True
    )
    employer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    contributions: Mapped[bytes] = mapped_column(LargeBinary)
    feature_values: Mapped[bytes] = mapped_column(LargeBinary)
