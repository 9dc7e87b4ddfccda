"""Arrays behind the features: the canonical tables recoded once for fast windowed sums.

Building features for one ``as_of`` reduces to sums over date windows per
employer. :func:`prepare_tables` does the slow work once per data set: it maps
every ``employer_id`` to a row number of the employer table, turns dates into
day numbers and sorts each event table by date. A window is then a contiguous
slice found with ``np.searchsorted``, and per-employer sums are ``np.bincount``
calls over that slice, so a panel of many ``as_of`` dates reuses the same arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from risk import codelists
from risk.errors import InputDataError
from risk.features.catalog import category_levels
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)

# Day number standing for "never rectified": later than any as_of.
NEVER = np.iinfo(np.int64).max

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class IncidentArrays:
    """Incidents sorted by ``day``; ``employer`` is the row in the employer table."""

    day: IntArray
    employer: IntArray
    is_commuting: BoolArray
    severity: IntArray
    group: IntArray
    lost_workdays: FloatArray
    has_disability: BoolArray
    weight: FloatArray


@dataclass(frozen=True)
class FindingArrays:
    """Hazard findings sorted by inspection ``day``; ``rectified_day`` is ``NEVER`` when open."""

    day: IntArray
    employer: IntArray
    is_major: BoolArray
    rectified_day: IntArray


@dataclass(frozen=True)
class TrainingArrays:
    """Training records sorted by delivery ``day``."""

    day: IntArray
    employer: IntArray
    attendees: FloatArray


@dataclass(frozen=True)
class PreparedTables:
    """Canonical tables recoded as arrays indexed by employer row (see the module docstring).

    ``category_codes`` holds, per categorical feature, codes into
    ``category_levels()`` (-1 for a value not in the code list). ``headcount``
    is an employers x years matrix starting at ``first_year``, NaN where no
    headcount was reported.
    """

    employer_ids: pd.Index
    category_codes: dict[str, IntArray]
    risk_class: FloatArray
    headcount: npt.NDArray[np.float64]
    first_year: int
    incidents: IncidentArrays
    findings: FindingArrays
    trainings: TrainingArrays

    @property
    def n_employers(self) -> int:
        """Number of employers."""
        return len(self.employer_ids)


def day_numbers(values: pd.Series) -> IntArray:
    """Return dates as days since 1970-01-01 (int64); NaT becomes the minimum int64."""
    dates = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    days: IntArray = dates.astype(np.int64)
    return days


def _employer_rows(ids: pd.Series, employer_ids: pd.Index) -> IntArray:
    # Factorizing first and looking up only the distinct ids is several times faster
    # than a lookup per row when ids repeat, as they do in event tables.
    codes, uniques = pd.factorize(ids)
    rows_of_unique = employer_ids.get_indexer(uniques)
    # A missing id has code -1, which must not index the last unique id.
    return _take_or_missing(rows_of_unique, codes)


def _take_or_missing(values: npt.NDArray[np.intp], codes: npt.NDArray[np.intp]) -> IntArray:
    """Return ``values[codes]`` as int64, with -1 where a code is -1 (a missing value)."""
    if len(values) == 0:
        return np.full(len(codes), -1, dtype=np.int64)
    return np.where(codes >= 0, values[codes], -1).astype(np.int64)


def _known_rows(
    table: str, frame: pd.DataFrame, employer_ids: pd.Index, date_column: str | None = None
) -> tuple[pd.DataFrame, IntArray]:
    """Drop rows of an unknown employer, or without a date, and return the employer rows."""
    rows = _employer_rows(frame["employer_id"], employer_ids)
    usable = rows >= 0
    if not usable.all():
        logger.warning(
            "Skipping %d %s rows whose employer_id is not in the employer table",
            int((~usable).sum()),
            table,
        )
    if date_column is not None:
        dated = frame[date_column].notna().to_numpy()
        if not dated.all():
            logger.warning(
                "Skipping %d %s rows without %s", int((~dated).sum()), table, date_column
            )
        usable &= dated
    if usable.all():
        return frame, rows
    return frame.loc[usable], rows[usable]


def _lookup(values: pd.Series, table: pd.DataFrame, key: str, code_list: str) -> IntArray:
    """Map ``values`` to row numbers of ``table[key]``, raising on an unknown value."""
    codes, uniques = pd.factorize(values)
    rows_of_unique = pd.Index(table[key]).get_indexer(uniques)
    if (rows_of_unique < 0).any() or (codes < 0).any():
        unknown = sorted(str(value) for value in uniques[rows_of_unique < 0])
        if (codes < 0).any():
            unknown.append("<missing>")
        listed = ", ".join(repr(value) for value in unknown[:5]) + (
            ", …" if len(unknown) > 5 else ""
        )
        raise InputDataError(
            f"未知的{code_list}代码：{listed} / unknown {code_list} codes: {listed};"
            f" expected one of {table[key].tolist()!r}"
        )
    return _take_or_missing(rows_of_unique, codes)


def _codes_in(values: pd.Series, levels: list[str], name: str) -> IntArray:
    """Return positions of ``values`` in ``levels``, -1 for a value outside them or missing."""
    codes, uniques = pd.factorize(values)
    positions = _take_or_missing(pd.Index(levels).get_indexer(uniques), codes)
    unknown = int(((positions < 0) & (codes >= 0)).sum())
    if unknown:
        logger.warning(
            "%d employers have a %s outside the code list; the feature is missing for them",
            unknown,
            name,
        )
    return positions


def _prepare_employers(employers: pd.DataFrame) -> tuple[pd.Index, dict[str, IntArray], FloatArray]:
    employer_ids = pd.Index(employers["employer_id"])
    if employer_ids.has_duplicates:
        duplicated = employer_ids[employer_ids.duplicated()].unique().tolist()
        raise InputDataError(
            f"单位表中统一社会信用代码重复：{duplicated[:5]!r} / duplicated employer_id in the"
            f" employer table: {duplicated[:5]!r}; each employer must appear once"
        )

    # Few distinct industry codes repeat over many employers, so parse each code once.
    industry_codes, industry_uniques = pd.factorize(employers["industry_code"].fillna(""))
    division_of_unique = np.array(
        [codelists.industry_division_of(str(code)) for code in industry_uniques], dtype=object
    )
    division = pd.Series(
        division_of_unique[industry_codes] if len(industry_codes) else [], dtype="str"
    )
    divisions = codelists.industry_divisions().set_index("division")
    section = division.map(divisions["section"])
    values = {
        "industry_section": section,
        "industry_division": division,
        "district_code": employers["district_code"],
    }
    codes = {
        name: _codes_in(values[name], levels, name) for name, levels in category_levels().items()
    }
    risk_class = division.map(divisions["risk_class"]).to_numpy(dtype=np.float64, na_value=np.nan)
    return employer_ids, codes, risk_class


def _prepare_headcount(headcounts: pd.DataFrame, employer_ids: pd.Index) -> tuple[FloatArray, int]:
    frame, rows = _known_rows("headcount", headcounts, employer_ids)
    years = frame["year"].to_numpy(dtype=np.int64)
    first_year = int(years.min()) if len(years) else 0
    n_years = int(years.max()) - first_year + 1 if len(years) else 0
    matrix = np.full((len(employer_ids), n_years), np.nan)
    matrix[rows, years - first_year] = frame["insured_headcount"].to_numpy(dtype=np.float64)
    return matrix, first_year


def _prepare_incidents(incidents: pd.DataFrame, employer_ids: pd.Index) -> IncidentArrays:
    frame, rows = _known_rows("incident", incidents, employer_ids, "occurred_on")
    day = day_numbers(frame["occurred_on"])
    order = np.argsort(day, kind="stable")

    severities = codelists.severities()
    severity = _lookup(frame["severity"], severities, "code", "伤害程度 severity")
    types = codelists.accident_types()
    groups = codelists.accident_type_groups()
    type_row = _lookup(frame["accident_type"], types, "code", "事故类别 accident type")
    group_of_type = pd.Index(groups["group"]).get_indexer(types["group"])
    lost = frame["lost_workdays"].to_numpy(dtype=np.float64, na_value=np.nan)

    return IncidentArrays(
        day=day[order],
        employer=rows[order],
        is_commuting=frame["is_commuting"].to_numpy(dtype=bool)[order],
        severity=severity[order],
        group=group_of_type[type_row][order].astype(np.int64),
        # A missing lost-workday count adds nothing to the sum instead of making it NaN.
        lost_workdays=np.nan_to_num(lost, nan=0.0)[order],
        has_disability=frame["disability_grade"].notna().to_numpy(dtype=bool)[order],
        weight=severities["weight"].to_numpy(dtype=np.float64)[severity][order],
    )


def _prepare_findings(findings: pd.DataFrame, employer_ids: pd.Index) -> FindingArrays:
    frame, rows = _known_rows("hazard finding", findings, employer_ids, "inspected_on")
    day = day_numbers(frame["inspected_on"])
    rectified = frame["rectified_on"]
    rectified_day = np.where(rectified.isna().to_numpy(), NEVER, day_numbers(rectified))
    order = np.argsort(day, kind="stable")
    return FindingArrays(
        day=day[order],
        employer=rows[order],
        is_major=(frame["hazard_level"] == "major").to_numpy(dtype=bool)[order],
        rectified_day=rectified_day[order],
    )


def _prepare_trainings(trainings: pd.DataFrame, employer_ids: pd.Index) -> TrainingArrays:
    frame, rows = _known_rows("training record", trainings, employer_ids, "delivered_on")
    day = day_numbers(frame["delivered_on"])
    order = np.argsort(day, kind="stable")
    return TrainingArrays(
        day=day[order],
        employer=rows[order],
        attendees=frame["attendees"].to_numpy(dtype=np.float64)[order],
    )


def prepare_tables(tables: CanonicalTables) -> PreparedTables:
    """Recode ``tables`` as arrays for :func:`risk.features.build.build_features_prepared`.

    Raises
    ------
    InputDataError
        When a frame lacks a column, an ``employer_id`` repeats in the employer
        table, or an incident has a severity or accident type outside the code lists.
    """
    tables.check_columns()
    employer_ids, category_codes, risk_class = _prepare_employers(tables.employers)
    headcount, first_year = _prepare_headcount(tables.headcounts, employer_ids)
    prepared = PreparedTables(
        employer_ids=employer_ids,
        category_codes=category_codes,
        risk_class=risk_class,
        headcount=headcount,
        first_year=first_year,
        incidents=_prepare_incidents(tables.incidents, employer_ids),
        findings=_prepare_findings(tables.hazard_findings, employer_ids),
        trainings=_prepare_trainings(tables.training_records, employer_ids),
    )
    logger.debug("Prepared feature arrays for %d employers", prepared.n_employers)
    return prepared
