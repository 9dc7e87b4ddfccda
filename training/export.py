"""Exports of a plan's sessions and employers: XLSX, CSV (UTF-8 with BOM) and ICS calendars.

All three take the same two frames, so a fresh :class:`~training.models.TrainingPlan`
and a stored plan export alike: ``plan_frames`` builds them from either.

Spreadsheet cells are escaped against formula injection: a text cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a
leading apostrophe, so Excel and LibreOffice show it as text instead of
evaluating it. ICS output follows RFC 5545: CRLF line ends, lines folded at
75 octets, text values escaped, one all-day ``VEVENT`` per session spanning
the Monday-to-Friday week it is planned in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from training.models import TrainingPlan
from training.records import StoredPlan

SESSION_HEADERS: dict[str, str] = {
    "session_id": "场次编号 session_id",
    "week": "周次 week",
    "week_start": "周一日期 week_start",
    "trainer_id": "培训机构编号 trainer_id",
    "organisation": "培训机构 organisation",
    "employer_id": "统一社会信用代码 employer_id",
    "employer_name": "单位名称 employer_name",
    "district_code": "所属区县 district_code",
    "course_id": "课程编号 course_id",
    "title_zh": "课程名称 title_zh",
    "title_en": "Course title",
    "sequence": "第几场 sequence",
    "hours": "学时 hours",
    "mode": "形式 mode",
    "planned_attendees": "计划参训人数 planned_attendees",
    "status": "状态 status",
}
EMPLOYER_HEADERS: dict[str, str] = {
    "employer_id": "统一社会信用代码 employer_id",
    "employer_name": "单位名称 employer_name",
    "district_code": "所属区县 district_code",
    "industry_code": "行业代码 industry_code",
    "headcount": "参保人数 headcount",
    "risk_score": "风险评分 risk_score",
    "expected_injuries": "预期工伤数 expected_injuries",
    "expected_injuries_averted": "预计可避免工伤数 expected_injuries_averted",
    "courses": "课程 courses",
    "sessions": "场次数 sessions",
    "rationale_zh": "入选理由",
    "rationale_en": "Rationale",
}
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def plan_frames(plan: TrainingPlan | StoredPlan) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(sessions, employers)`` frames of a fresh or stored plan in export columns."""
    if isinstance(plan, TrainingPlan):
        return plan.sessions_frame(), plan.employers_frame()
    employers = plan.employers.rename(columns={"name": "employer_name"})
    titles: dict[str, tuple[str, str]] = {}
    for cell in employers["courses"]:
        for course in json.loads(cell):
            titles[course["course_id"]] = (course["title_zh"], course["title_en"])
    sessions = plan.sessions.merge(
        employers[["employer_id", "employer_name", "district_code"]], on="employer_id", how="left"
    )
    sessions["title_zh"] = sessions["course_id"].map(lambda c: titles.get(c, ("", ""))[0])
    sessions["title_en"] = sessions["course_id"].map(lambda c: titles.get(c, ("", ""))[1])
    counts = sessions.groupby("employer_id").size()
    employers["sessions"] = employers["employer_id"].map(counts).fillna(0).astype(int)
    employers["courses"] = employers["courses"].map(
        lambda cell: "|".join(course["course_id"] for course in json.loads(cell))
    )
    columns = [c for c in SESSION_HEADERS if c in sessions.columns]
    return sessions[columns], employers[[c for c in EMPLOYER_HEADERS if c in employers.columns]]


def escape_cell(value: object) -> object:
    """Return ``value`` with a leading apostrophe if it is text a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()  # type: ignore[no-any-return, union-attr]
    return None if value is not None and pd.isna(value) else value  # type: ignore[call-overload]


def _write_sheet(
    workbook: Workbook, title: str, frame: pd.DataFrame, headers: dict[str, str]
) -> None:
    sheet = workbook.create_sheet(title)
    columns = [c for c in headers if c in frame.columns]
    sheet.append([headers[c] for c in columns])
    for row in frame[columns].itertuples(index=False, name=None):
        sheet.append([escape_cell(_plain(value)) for value in row])
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = (
            40 if "rationale" in column else 18
        )
    sheet.freeze_panes = "A2"


def to_xlsx(sessions: pd.DataFrame, employers: pd.DataFrame) -> bytes:
    """Return a workbook with a sessions sheet and an employers sheet."""
    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    _write_sheet(workbook, "培训场次 Sessions", sessions, SESSION_HEADERS)
    _write_sheet(workbook, "培训单位 Employers", employers, EMPLOYER_HEADERS)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(sessions: pd.DataFrame) -> bytes:
    """Return the sessions as CSV in UTF-8 with a BOM, so Excel opens the Chinese text correctly."""
    columns = [c for c in SESSION_HEADERS if c in sessions.columns]
    frame = sessions[columns].rename(columns=SESSION_HEADERS).map(escape_cell)
    return frame.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def _escape_text(value: object) -> str:
    text = str(value)
    for old, new in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\r\n", "\\n"), ("\n", "\\n")):
        text = text.replace(old, new)
    return text


def _fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a UTF-8 character."""
    chunks: list[str] = []
    current, size, limit = "", 0, 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            chunks.append(current)
            # Continuation lines start with a space, which counts towards their 75 octets.
            current, size, limit = char, width, 74
        else:
            current, size = current + char, size + width
    chunks.append(current)
    return "\r\n ".join(chunks)


def _uid(row: pd.Series) -> str:
    if "session_id" in row and pd.notna(row["session_id"]):
        return f"session-{int(row['session_id'])}@injury-risk"
    key = f"{row['employer_id']}|{row['course_id']}|{row['sequence']}|{row['week_start']}"
    return f"session-{hashlib.sha1(key.encode()).hexdigest()[:16]}@injury-risk"


def _event(row: pd.Series, stamp: str) -> list[str]:
    start = pd.Timestamp(row["week_start"]).date()
    summary = f"培训 Training: {row['title_zh']}（{row['employer_name']}）"
    description = (
        f"课程 Course: {row['course_id']} {row['title_zh']} / {row['title_en']}\n"
        f"单位 Employer: {row['employer_name']} ({row['employer_id']}),"
        f" 区县 district {row['district_code']}\n"
        f"第{row['sequence']}场 session {row['sequence']}, {row['hours']} 学时 hours,"
        f" {row['planned_attendees']} 人 attendees, {row['mode']}\n"
        f"培训机构 Trainer: {row['organisation']} ({row['trainer_id']})"
    )
    return [
        "BEGIN:VEVENT",
        f"UID:{_uid(row)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{start:%Y%m%d}",
        f"DTEND;VALUE=DATE:{start + dt.timedelta(days=5):%Y%m%d}",
        f"SUMMARY:{_escape_text(summary)}",
        f"DESCRIPTION:{_escape_text(description)}",
        "TRANSP:TRANSPARENT",
        "END:VEVENT",
    ]


def to_ics(sessions: pd.DataFrame, calendar_name: str = "培训计划 Training plan") -> bytes:
    """Return an RFC 5545 calendar with one all-day event per session over its planned week."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//injury-risk//training planner//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape_text(calendar_name)}",
    ]
    for _, row in sessions.iterrows():
        lines += _event(row, stamp)
    lines.append("END:VCALENDAR")
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode("utf-8")


EXPORT_FORMATS = {".xlsx": "xlsx", ".csv": "csv", ".ics": "ics"}
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "ics": "text/calendar; charset=utf-8",
}


def export_bytes(plan: TrainingPlan | StoredPlan, file_format: str) -> bytes:
    """Return the plan exported as ``"xlsx"``, ``"csv"`` or ``"ics"``."""
    sessions, employers = plan_frames(plan)
    if file_format == "xlsx":
        return to_xlsx(sessions, employers)
    if file_format == "csv":
        return to_csv(sessions)
    if file_format == "ics":
        return to_ics(sessions)
    raise ValueError(
        f"未知的导出格式 {file_format!r}；可选 xlsx、csv、ics。"
        f" / Unknown export format {file_format!r}; choose xlsx, csv or ics."
    )


def format_from_suffix(path: Path | str) -> str:
    """Return the export format named by the file's suffix.

    Raises
    ------
    ValueError
        If the suffix is not ``.xlsx``, ``.csv`` or ``.ics``.
    """
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise ValueError(
            f"无法从文件名 {str(path)!r} 判断导出格式；请使用 .xlsx、.csv 或 .ics 后缀。"
            f" / Cannot tell the export format from {str(path)!r}; use a .xlsx, .csv or"
            " .ics suffix."
        )
    return EXPORT_FORMATS[suffix]


def write_plan(plan: TrainingPlan | StoredPlan, path: Path | str) -> Path:
    """Write the plan to ``path`` in the format its suffix names; return the path."""
    path = Path(path)
    data = export_bytes(plan, format_from_suffix(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
