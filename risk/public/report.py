"""The adapter report: every source row an adapter could not place, with its reason.

Public-data adapters never drop a row silently. A row they cannot turn into
canonical rows becomes a :class:`RejectedRow`. It carries the
:class:`~risk.errors.RowError` that ingest would report (file, row, column,
value, reason in Chinese and English), a stable reason code, and the number
of units the row contained (for an injury row, its injury count). The units
placed plus the units rejected add up to the units read.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from risk.errors import RowError

logger = logging.getLogger(__name__)

REJECT_COLUMNS = (
    "file",
    "row",
    "column",
    "value",
    "reason_code",
    "units",
    "reason_zh",
    "reason_en",
)


@dataclass(frozen=True)
class RejectedRow:
    """One source row an adapter could not place.

    ``units`` is what the row held in the unit the report counts for its file:
    injuries for an injury row, violations for a violation row, 1 otherwise.
    """

    code: str
    error: RowError
    units: float = 1.0


@dataclass
class AdapterReport:
    """Rows and units read, placed and rejected by one adapter run, per source file."""

    source: str
    rows_read: Counter[str] = field(default_factory=Counter)
    units_read: Counter[str] = field(default_factory=Counter)
    units_placed: Counter[str] = field(default_factory=Counter)
    rejected: list[RejectedRow] = field(default_factory=list)
    # Rows outside the adapter's scope by design (another commodity, an accident without
    # injury), counted by reason but not listed one by one: national files hold millions.
    excluded: Counter[str] = field(default_factory=Counter)

    def reject(self, code: str, error: RowError, units: float = 1.0) -> None:
        """Record one row that could not be placed."""
        self.rejected.append(RejectedRow(code, error, units))

    def counts_by_reason(self) -> dict[str, dict[str, float]]:
        """Return ``{reason_code: {"rows": n, "units": u}}`` over every rejected row."""
        rows: Counter[str] = Counter()
        units: Counter[str] = Counter()
        for item in self.rejected:
            rows[item.code] += 1
            units[item.code] += item.units
        return {code: {"rows": rows[code], "units": units[code]} for code in sorted(rows)}

    def units_rejected(self, file: str) -> float:
        """Return the units of the rejected rows of ``file``."""
        return sum(item.units for item in self.rejected if item.error.file == file)

    def errors(self) -> list[RowError]:
        """Return the row errors in the order they were found."""
        return [item.error for item in self.rejected]

    def summary(self) -> dict[str, object]:
        """Return the report as plain data for JSON: reads, placements and reasons."""
        return {
            "source": self.source,
            "rows_read": dict(self.rows_read),
            "units_read": dict(self.units_read),
            "units_placed": dict(self.units_placed),
            "rejected_by_reason": self.counts_by_reason(),
            "excluded_by_reason": dict(self.excluded),
        }

    def describe(self) -> str:
        """Return one line per reason in Chinese then English, for the console."""
        lines = [
            f"{self.source}: 无法放置的行 {len(self.rejected)} /"
            f" rows not placed {len(self.rejected)}"
        ]
        for code, count in self.counts_by_reason().items():
            example = next(item.error for item in self.rejected if item.code == code)
            lines.append(
                f"  {code}: {count['rows']} 行 rows, {count['units']:g} 单位 units"
                f" ({example.reason_zh} / {example.reason_en})"
            )
        return "\n".join(lines)

    def write_rejects(self, path: Path) -> Path:
        """Write every rejected row to ``path`` as CSV (UTF-8 with BOM, so Excel opens it)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(REJECT_COLUMNS)
            for item in self.rejected:
                error = item.error
                writer.writerow(
                    [
                        error.file,
                        "" if error.row is None else error.row,
                        error.column or "",
                        "" if error.value is None else error.value,
                        item.code,
                        f"{item.units:g}",
                        error.reason_zh,
                        error.reason_en,
                    ]
                )
        logger.info("wrote %d rejected rows of %s to %s", len(self.rejected), self.source, path)
        return path

    def merge(self, other: AdapterReport) -> None:
        """Add ``other``'s counts and rejected rows to this report."""
        self.rows_read.update(other.rows_read)
        self.units_read.update(other.units_read)
        self.units_placed.update(other.units_placed)
        self.rejected.extend(other.rejected)
        self.excluded.update(other.excluded)
