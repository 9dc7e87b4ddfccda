"""Event time relative to trainings: the windows, the bins and each employer-month's position.

An employer-month is placed relative to two trainings of its employer: the
latest one on or before it (months since, 0 in the training month) and the
next one after it (months until). :class:`EventWindow` cuts these into the
bins of the event study in :mod:`risk.evaluation.effect`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from risk.evaluation.employer_months import EmployerMonths

# Months since or until a training when there is none in the panel.
_FAR = 10**6


@dataclass(frozen=True)
class EventWindow:
    """Event-time windows of the design, in months.

    The ``effect_months`` after the training month form the pooled effect.
    The event-study plot covers ``window_months`` on each side in bins of
    ``bin_months``. The ``selection_months`` before a training are the
    selection window.
    """

    effect_months: int = 12
    window_months: int = 24
    bin_months: int = 3
    selection_months: int = 12

    def __post_init__(self) -> None:
        for name in ("effect_months", "window_months", "bin_months", "selection_months"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)!r}")
        if (
            not self.selection_months <= self.window_months
            or not self.effect_months <= self.window_months
        ):
            raise ValueError(
                "selection_months and effect_months must not exceed window_months, got "
                f"{self.selection_months!r}, {self.effect_months!r} and {self.window_months!r}"
            )

    def bins(self) -> list[tuple[int, int]]:
        """Return the event-study bins as (first, last) event months, ascending, with (0, 0)."""
        before = [
            (-min(end, self.window_months), -start)
            for start, end in _chunks(1, self.window_months, self.bin_months)
        ]
        after = list(_chunks(1, self.window_months, self.bin_months))
        return sorted(before) + [(0, 0)] + after

    def pooled_bins(self) -> list[tuple[int, int]]:
        """Return the bins of the pooled model: selection bins, month 0, the effect and the rest."""
        selection = [
            (-end, -start) for start, end in _chunks(1, self.selection_months, self.bin_months)
        ]
        after = [(1, self.effect_months)]
        if self.window_months > self.effect_months:
            after.append((self.effect_months + 1, self.window_months))
        return sorted(selection) + [(0, 0)] + after


def _chunks(first: int, last: int, size: int) -> list[tuple[int, int]]:
    return [(start, min(start + size - 1, last)) for start in range(first, last + 1, size)]


def bin_label(first: int, last: int) -> str:
    """Return a bin's label, e.g. ``-12..-10``, ``0`` or ``1..12``."""
    return str(first) if first == last else f"{first}..{last}"


def event_times(panel: EmployerMonths) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Return, per cell, months since the latest training (0 in its month) and until the next one.

    Cells with no such training get a large value.
    """
    shape = panel.injuries.shape
    since = np.full(shape, _FAR, dtype=np.int64)
    until = np.full(shape, _FAR, dtype=np.int64)
    columns = np.arange(shape[1])
    # Trainings are sorted by month, so a later one overwrites "since" and an
    # earlier one overwrites "until": each cell keeps the nearest training.
    for employer, month in zip(panel.training_employer, panel.training_month, strict=True):
        since[employer, month:] = columns[month:] - month
    for employer, month in zip(
        panel.training_employer[::-1], panel.training_month[::-1], strict=True
    ):
        until[employer, :month] = month - columns[:month]
    return since, until


def event_columns(
    since: npt.NDArray[np.int64], until: npt.NDArray[np.int64], bins: list[tuple[int, int]]
) -> sp.csr_matrix:
    """Return one 0/1 column per bin: after-training bins read ``since``, earlier bins ``until``."""
    columns = []
    for first, last in bins:
        if first >= 0:
            column = (since >= first) & (since <= last)
        else:
            column = (until >= -last) & (until <= -first)
        columns.append(sp.csr_matrix(column.astype(np.float64).reshape(-1, 1)))
    if not columns:
        return sp.csr_matrix((since.size, 0))
    return sp.hstack(columns, format="csr")
