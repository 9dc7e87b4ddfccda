"""Add stored training plans, their versions, employers and sessions, and trainer key links.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_plan",
        sa.Column("plan_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
    )
    op.create_table(
        "training_plan_version",
        sa.Column("version_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "plan_id",
            sa.Integer,
            sa.ForeignKey("training_plan.plan_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("start_date", sa.Date, nullable=False),
        sa.Column("horizon_weeks", sa.Integer, nullable=False),
        sa.Column("strategy", sa.String(16), nullable=False),
        sa.Column("solver_status", sa.String(16), nullable=False),
        sa.Column("objective", sa.Float, nullable=False),
        sa.Column("bound", sa.Float, nullable=False),
        sa.Column("gap", sa.Float, nullable=False),
        sa.Column("solve_seconds", sa.Float, nullable=False),
        sa.Column("parameters", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(32), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(32), nullable=True),
        sa.UniqueConstraint("plan_id", "version", name="uq_training_plan_version"),
    )
    op.create_table(
        "training_plan_employer",
        sa.Column(
            "version_id",
            sa.Integer,
            sa.ForeignKey("training_plan_version.version_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("employer_id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district_code", sa.String(12), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("headcount", sa.Integer, nullable=False),
        sa.Column("risk_score", sa.Float, nullable=False),
        sa.Column("expected_injuries", sa.Float, nullable=False),
        sa.Column("expected_injuries_averted", sa.Float, nullable=False),
        sa.Column("courses", sa.Text, nullable=False),
        sa.Column("rationale_zh", sa.Text, nullable=False),
        sa.Column("rationale_en", sa.Text, nullable=False),
    )
    op.create_table(
        "training_plan_session",
        sa.Column("session_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "version_id",
            sa.Integer,
            sa.ForeignKey("training_plan_version.version_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("employer_id", sa.String(32), nullable=False),
        sa.Column("course_id", sa.String(32), nullable=False),
        sa.Column("trainer_id", sa.String(32), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("week", sa.Integer, nullable=False),
        sa.Column("week_start", sa.Date, nullable=False),
        sa.Column("sequence", sa.Integer, nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("planned_attendees", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("delivered_on", sa.Date, nullable=True),
        sa.Column("attendees", sa.Integer, nullable=True),
        sa.Column("record_id", sa.String(40), nullable=True),
    )
    op.create_index("ix_training_plan_session_version", "training_plan_session", ["version_id"])
    op.create_index(
        "ix_training_plan_session_organisation", "training_plan_session", ["organisation", "status"]
    )
    op.create_table(
        "trainer_api_key",
        sa.Column(
            "key_id",
            sa.String(16),
            sa.ForeignKey("api_key.key_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("organisation", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trainer_api_key")
    op.drop_index("ix_training_plan_session_organisation", table_name="training_plan_session")
    op.drop_index("ix_training_plan_session_version", table_name="training_plan_session")
    for table in (
        "training_plan_session",
        "training_plan_employer",
        "training_plan_version",
        "training_plan",
    ):
        op.drop_table(table)
