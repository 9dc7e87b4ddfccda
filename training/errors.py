"""Exception types raised by the ``training`` package.

They extend the hierarchy of :mod:`risk.errors`, so a caller that catches
``RiskError`` also catches planning failures::

    RiskError
    ├── InputDataError (also ValueError)
    │   └── CatalogueError          a course, trainer or effect file has invalid rows
    └── PlanningError
        ├── PlanInfeasibleError (also ValueError)   no plan satisfies the constraints
        ├── PlanStateError (also ValueError)        a stored plan or session is in the wrong state
        └── PlanNotFoundError (also LookupError)    no stored plan, version or session has that id
"""

from __future__ import annotations

from risk.errors import InputDataError, RiskError


class CatalogueError(InputDataError):
    """A catalogue file (courses, trainers, course effects) failed validation."""


class PlanningError(RiskError):
    """Base class of errors raised while building or changing a training plan.

    The message is the Chinese text, " / ", then the English text. Raisers may
    also pass the two halves as ``message_zh`` and ``message_en``, so that text
    quoted from the caller cannot be mistaken for the separator.
    """

    def __init__(
        self, message: str, *, message_zh: str | None = None, message_en: str | None = None
    ) -> None:
        super().__init__(message)
        self.message_zh = message_zh
        self.message_en = message_en


class PlanInfeasibleError(PlanningError, ValueError):
    """No plan satisfies the request's constraints.

    ``constraint`` names the binding constraint in machine-readable form, for
    example ``"district_min:330102"`` or ``"trainer_weekly_capacity"``; the
    message says the same in Chinese and English with the values involved.
    """

    def __init__(
        self,
        message: str,
        constraint: str,
        *,
        message_zh: str | None = None,
        message_en: str | None = None,
    ) -> None:
        super().__init__(message, message_zh=message_zh, message_en=message_en)
        self.constraint = constraint


class PlanStateError(PlanningError, ValueError):
    """A stored plan, version or session does not allow the requested change."""


class PlanNotFoundError(PlanningError, LookupError):
    """No stored plan, version or session has the requested id."""
