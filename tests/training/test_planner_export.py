"""Tests of plan exports: XLSX round trip with formula escaping, CSV with BOM, ICS that parses."""

from __future__ import annotations

import io
from pathlib import Path

import icalendar
import openpyxl
import pandas as pd
import pytest
from planner_factories import AS_OF, make_candidates, make_courses, make_trainers
from sqlalchemy import Engine

from training import PlanBudget, PlanOptions, TrainingPlan, plan_courses
from training.export import escape_cell, export_bytes, format_from_suffix, write_plan
from training.records import read_plan, save_plan

HOSTILE_NAME = '=HYPERLINK("http://127.0.0.1/x","点击")'


@pytest.fixture(scope="module")
def plan() -> TrainingPlan:
    """A small plan whose first employer's name is a spreadsheet formula."""
    candidates = make_candidates(3, headcount=30)
    candidates["name"] = [HOSTILE_NAME, "+单位二; 含,逗号", "@单位三"]
    courses = make_courses(
        [
            {
                "course_id": "A",
                "accident_types": "03",
                "class_size": "20",
                "title_zh": "机械安全，实操；第一期",
                "title_en": "Machine safety, part 1",
            }
        ]
    )
    trainers = make_trainers([{"trainer_id": "T1", "organisation": "甲机构"}])
    return plan_courses(
        candidates, courses, trainers, PlanBudget(), options=PlanOptions(as_of=AS_OF)
    )


def test_escape_cell_formula_prefixes() -> None:
    """Text starting with = + - @ tab or CR gets an apostrophe; numbers and plain text do not."""
    assert [escape_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
    ]
    assert escape_cell("单位") == "单位"
    assert escape_cell(-1) == -1


def test_to_xlsx_round_trip_escapes_formulas(plan: TrainingPlan) -> None:
    """The workbook reads back with every session and employer, and no cell is a formula."""
    workbook = openpyxl.load_workbook(io.BytesIO(export_bytes(plan, "xlsx")))

    sessions, employers = workbook.worksheets
    session_rows = list(sessions.iter_rows(min_row=2, values_only=True))
    employer_rows = list(employers.iter_rows(min_row=2, values_only=True))
    assert len(session_rows) == len(plan.sessions)
    assert len(employer_rows) == len(plan.course_plans)
    names = {row[1] for row in employer_rows}
    assert "'" + HOSTILE_NAME in names
    assert "'@单位三" in names
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            assert all(cell.data_type != "f" for cell in row)
    header = [cell.value for cell in sessions[1]]
    assert header[:2] == ["周次 week", "周一日期 week_start"]


def test_to_csv_has_bom_and_round_trips(plan: TrainingPlan) -> None:
    """The CSV starts with a UTF-8 BOM and reads back with the Chinese text intact."""
    data = export_bytes(plan, "csv")

    assert data.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert len(frame) == len(plan.sessions)
    assert set(frame["课程名称 title_zh"]) == {"机械安全，实操；第一期"}
    assert "'" + HOSTILE_NAME in set(frame["单位名称 employer_name"])


def test_to_ics_parses_one_event_per_session(plan: TrainingPlan) -> None:
    """The calendar parses with icalendar; each session is an all-day event over its week."""
    data = export_bytes(plan, "ics")

    calendar = icalendar.Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) == len(plan.sessions)
    assert len({str(event["UID"]) for event in events}) == len(events)
    first = sorted(plan.sessions, key=lambda s: (s.week_start, s.employer_id))[0]
    starts = sorted(event.decoded("DTSTART") for event in events)
    assert starts[0] == first.week_start
    assert (events[0].decoded("DTEND") - events[0].decoded("DTSTART")).days == 5
    assert "机械安全，实操；第一期" in str(events[0]["SUMMARY"])
    assert all(len(line.encode()) <= 75 for line in data.decode().split("\r\n"))


def test_write_plan_stored_plan_by_suffix(
    plan: TrainingPlan, sqlite_engine: Engine, tmp_path: Path
) -> None:
    """A stored plan exports like a fresh one, in the format its file suffix names."""
    info = save_plan(sqlite_engine, plan, "p", "cli")
    stored = read_plan(sqlite_engine, info.plan_id)

    paths = [write_plan(stored, tmp_path / f"plan{suffix}") for suffix in (".xlsx", ".csv", ".ics")]

    frame = pd.read_excel(paths[0], sheet_name=0, dtype=str)
    assert len(frame) == len(plan.sessions)
    assert frame["场次编号 session_id"].notna().all()
    assert paths[1].read_bytes().startswith(b"\xef\xbb\xbf")
    assert len(icalendar.Calendar.from_ical(paths[2].read_bytes()).walk("VEVENT")) == len(
        plan.sessions
    )
    with pytest.raises(ValueError, match="use a .xlsx, .csv or .ics suffix"):
        format_from_suffix(tmp_path / "plan.pdf")
