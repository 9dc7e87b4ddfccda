"""Exception types raised by the ``risk`` package.

All of them derive from :class:`RiskError`, so a caller can catch one base class::

    RiskError
    ├── InputDataError (also ValueError)    bad rows, columns or values in input data
    │   └── IngestError                     an ingest run rejected one or more files
    ├── StoreError                          the database is missing, unreachable or not migrated
    └── ModelError                          no model, or a model that cannot score the input
"""

from __future__ import annotations

from dataclasses import dataclass


class RiskError(Exception):
    """Base class of every error raised by this package."""


@dataclass(frozen=True)
class RowError:
    """One invalid cell or row, located in its source file.

    ``row`` is the 1-based line number a user sees in a spreadsheet, the header
    being row 1, so the first data row is row 2.
    """

    file: str
    row: int | None
    column: str | None
    value: str | None
    reason_zh: str
    reason_en: str

    def describe(self) -> str:
        """Return one line in Chinese then English, naming where and what."""
        where = f"{self.file}"
        if self.row is not None:
            where += f" 第{self.row}行 (row {self.row})"
        if self.column is not None:
            where += f" 列「{self.column}」(column {self.column!r})"
        value = "" if self.value is None else f" 值 value={self.value!r}"
        return f"{where}{value}: {self.reason_zh} / {self.reason_en}"


class InputDataError(RiskError, ValueError):
    """Input data with invalid rows, columns or values.

    ``errors`` lists every problem found, not only the first.
    """

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors: list[RowError] = list(errors or [])


class IngestError(InputDataError):
    """An ingest run rejected its input; nothing was written to the store."""


class StoreError(RiskError):
    """The store cannot be reached, or its schema is not at the expected revision."""


class ModelError(RiskError):
    """No usable model, or a model that cannot score the given input."""
