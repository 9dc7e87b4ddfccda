"""Prevention-training planner: course catalogue, tailoring, employer selection and scheduling.

``plan_courses`` is the entry point; it takes a plain candidate frame, so it
works from stored scores, a freshly fitted model or a hand-made table.
"""

from training.errors import CatalogueError, PlanInfeasibleError, PlanningError
from training.models import (
    CourseChoice,
    CoursePlan,
    HazardEvidence,
    PlanBudget,
    PlanOptions,
    ProfileWeights,
    SolveReport,
    TailoringOptions,
    TrainingPlan,
    TrainingSession,
)
from training.planner import plan_courses

__all__ = [
    "CatalogueError",
    "CourseChoice",
    "CoursePlan",
    "HazardEvidence",
    "PlanBudget",
    "PlanInfeasibleError",
    "PlanOptions",
    "PlanningError",
    "ProfileWeights",
    "SolveReport",
    "TailoringOptions",
    "TrainingPlan",
    "TrainingSession",
    "plan_courses",
]
