"""Create the canonical tables.

Revision ID: 0001
Revises:
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "employer",
        sa.Column("employer_id", sa.String(32), primary_key=True),
        sa.Column("id_scheme", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("district_code", sa.String(12), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index("ix_employer_industry_code", "employer", ["industry_code"])
    op.create_index("ix_employer_district_code", "employer", ["district_code"])

    op.create_table(
        "employer_headcount",
        sa.Column(
            "employer_id",
            sa.String(32),
            sa.ForeignKey("employer.employer_id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("insured_headcount", sa.Integer, nullable=False),
        sa.Column("hours_worked", sa.Float, nullable=True),
    )

    op.create_table(
        "incident",
        sa.Column("incident_id", sa.String(40), primary_key=True),
        sa.Column(
            "employer_id",
            sa.String(32),
            sa.ForeignKey("employer.employer_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("occurred_on", sa.Date, nullable=False),
        sa.Column("accident_type", sa.String(2), nullable=False),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("lost_workdays", sa.Integer, nullable=True),
        sa.Column("disability_grade", sa.Integer, nullable=True),
        sa.Column("is_commuting", sa.Boolean, nullable=False),
        sa.Column("source_event_code", sa.String(16), nullable=True),
    )
    op.create_index("ix_incident_employer_occurred", "incident", ["employer_id", "occurred_on"])

    op.create_table(
        "hazard_finding",
        sa.Column("finding_id", sa.String(40), primary_key=True),
        sa.Column(
            "employer_id",
            sa.String(32),
            sa.ForeignKey("employer.employer_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("hazard_category", sa.String(32), nullable=False),
        sa.Column("hazard_level", sa.String(8), nullable=False),
        sa.Column("rectified_on", sa.Date, nullable=True),
        sa.Column("description", sa.Text, nullable=True),
    )
    op.create_index(
        "ix_hazard_employer_inspected", "hazard_finding", ["employer_id", "inspected_on"]
    )

    op.create_table(
        "training_record",
        sa.Column("record_id", sa.String(40), primary_key=True),
        sa.Column(
            "employer_id",
            sa.String(32),
            sa.ForeignKey("employer.employer_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("course_id", sa.String(32), nullable=False),
        sa.Column("delivered_on", sa.Date, nullable=False),
        sa.Column("attendees", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_training_employer_delivered", "training_record", ["employer_id", "delivered_on"]
    )

    op.create_table(
        "course",
        sa.Column("course_id", sa.String(32), primary_key=True),
        sa.Column("title_zh", sa.String(200), nullable=False),
        sa.Column("title_en", sa.String(200), nullable=False),
        sa.Column("accident_types", sa.String(200), nullable=False),
        sa.Column("industries", sa.String(200), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("class_size", sa.Integer, nullable=False),
        sa.Column("qualification", sa.String(64), nullable=False),
    )

    op.create_table(
        "trainer",
        sa.Column("trainer_id", sa.String(32), primary_key=True),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("qualifications", sa.String(400), nullable=False),
        sa.Column("district_codes", sa.String(400), nullable=False),
        sa.Column("sessions_per_week", sa.Integer, nullable=False),
    )

    op.create_table(
        "ingest_run",
        sa.Column("run_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("files", sa.Text, nullable=False),
        sa.Column("rows_loaded", sa.Integer, nullable=False),
        sa.Column("rows_rejected", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ingest_run",
        "trainer",
        "course",
        "training_record",
        "hazard_finding",
        "incident",
        "employer_headcount",
        "employer",
    ):
        op.drop_table(table)
