"""Planning from the store: stored scores and canonical tables in, a training plan out."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from risk.store.read import read_tables
from training.candidates import CandidateSet, candidates_from_store, evidence_from_tables
from training.catalog import load_course_effects, load_courses, load_trainers
from training.errors import PlanningError
from training.models import PlanBudget, PlanOptions, TrainingPlan
from training.planner import plan_courses

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Catalogue:
    """The parsed course catalogue, trainer file and course-effect table."""

    courses: pd.DataFrame
    trainers: pd.DataFrame
    effects: pd.DataFrame


def load_catalogue(
    courses: Path | None = None, trainers: Path | None = None, effects: Path | None = None
) -> Catalogue:
    """Load the three catalogue files, each from its path or the shipped default when None."""
    return Catalogue(load_courses(courses), load_trainers(trainers), load_course_effects(effects))


def plan_from_candidates(
    engine: Engine,
    candidate_set: CandidateSet,
    catalogue: Catalogue,
    budget: PlanBudget,
    options: PlanOptions,
) -> TrainingPlan:
    """Plan over ``candidate_set``, reading incidents, findings and trainings from the store."""
    tables = read_tables(engine)
    options = dataclasses.replace(options, as_of=options.as_of or candidate_set.as_of)
    evidence = evidence_from_tables(tables, candidate_set.contributions)
    return plan_courses(
        candidate_set.candidates,
        catalogue.courses,
        catalogue.trainers,
        budget,
        effects=catalogue.effects,
        evidence=evidence,
        options=options,
    )


def plan_from_store(
    engine: Engine, model_name: str, catalogue: Catalogue, budget: PlanBudget, options: PlanOptions
) -> TrainingPlan:
    """Plan over the latest stored scoring run of ``model_name``.

    Raises
    ------
    PlanningError
        If the store contains no finished scoring run of the model.
    """
    candidate_set = candidates_from_store(engine, model_name)
    if candidate_set is None:
        raise PlanningError(
            f"数据库中没有模型 {model_name} 的评分；请先运行 `injury-risk score`。"
            f" / The store holds no scores of model {model_name!r}; run `injury-risk score` first."
        )
    return plan_from_candidates(engine, candidate_set, catalogue, budget, options)
