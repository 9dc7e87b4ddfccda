"""Add batch scores with explanations, API keys and the audit log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _create_scoring_tables()
    _create_access_tables()


def _create_scoring_tables() -> None:
    op.create_table(
        "scoring_run",
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("model_name", sa.String(100), nullable=False),
        sa.Column("model_version", sa.String(32), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("horizon_days", sa.Integer, nullable=False),
        sa.Column("base_value", sa.Float, nullable=False),
        sa.Column("feature_names", sa.Text, nullable=False),
        sa.Column("feature_meta", sa.Text, nullable=False),
        sa.Column("peer_means", sa.Text, nullable=False),
        sa.Column("band_thresholds", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.UniqueConstraint(
            "model_name", "model_version", "as_of", name="uq_scoring_run_version_as_of"
        ),
        # A replaced run must get a new id on SQLite too: the service detects new runs by id.
        sqlite_autoincrement=True,
    )

    op.create_table(
        "risk_score",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("scoring_run.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("employer_id", sa.String(32), primary_key=True),
        sa.Column("risk_score", sa.Float, nullable=False),
        sa.Column("expected_injuries", sa.Float, nullable=False),
        sa.Column("risk_band", sa.String(8), nullable=False),
        sa.Column("margin", sa.Float, nullable=False),
        sa.Column("risk_rank", sa.Integer, nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("industry_section", sa.String(1), nullable=False),
        sa.Column("district_code", sa.String(12), nullable=False),
        sa.Column("size_band", sa.String(8), nullable=False),
        sa.Column("insured_headcount", sa.Integer, nullable=True),
        sa.Column("industry_percentile", sa.Float, nullable=False),
        sa.Column("district_percentile", sa.Float, nullable=False),
        sa.Column("unknown_categories", sa.String(400), nullable=False),
    )
    op.create_index("ix_risk_score_run_rank", "risk_score", ["run_id", "risk_rank"], unique=True)
    op.create_index(
        "ix_risk_score_run_district_rank", "risk_score", ["run_id", "district_code", "risk_rank"]
    )
    op.create_index("ix_risk_score_employer", "risk_score", ["employer_id"])

    op.create_table(
        "score_contribution",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("scoring_run.run_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("employer_id", sa.String(32), primary_key=True),
        sa.Column("contributions", sa.LargeBinary, nullable=False),
        sa.Column("feature_values", sa.LargeBinary, nullable=False),
    )


def _create_access_tables() -> None:
    op.create_table(
        "api_key",
        sa.Column("key_id", sa.String(16), primary_key=True),
        sa.Column("secret_hash", sa.LargeBinary(64), nullable=False),
        sa.Column("salt", sa.LargeBinary(32), nullable=False),
        sa.Column("hash_scheme", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("district_codes", sa.String(400), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )

    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(16), sa.ForeignKey("api_key.key_id"), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("employer_id", sa.String(32), nullable=True),
        sa.Column("endpoint", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("model_version", sa.String(32), nullable=True),
        sa.Column("as_of", sa.Date, nullable=True),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_employer", "audit_log", ["employer_id", "at"])
    op.create_index("ix_audit_log_key", "audit_log", ["key_id", "at"])


def downgrade() -> None:
    for table in ("audit_log", "api_key", "score_contribution", "risk_score", "scoring_run"):
        op.drop_table(table)
