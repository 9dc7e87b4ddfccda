"""Relational store: SQLAlchemy models, engine creation, migrations and bulk loading."""

from risk.store import access_models, scoring_models  # noqa: F401  (registers their tables on Base)
from risk.store.db import create_store_engine, current_revision, upgrade_store
from risk.store.models import (
    Base,
    Course,
    Employer,
    EmployerHeadcount,
    HazardFinding,
    Incident,
    IngestRun,
    Trainer,
    TrainingRecord,
)

__all__ = [
    "Base",
    "Course",
    "Employer",
    "EmployerHeadcount",
    "HazardFinding",
    "Incident",
    "IngestRun",
    "Trainer",
    "TrainingRecord",
    "create_store_engine",
    "current_revision",
    "upgrade_store",
]
