"""The header map: which export headers feed which canonical column, per table kind.

``HEADER_MAP`` is the one place that lists the headers ingest accepts; the
table in ``docs/ingest.md`` is the same list for users, and a test keeps the
two in step. Headers are compared after :func:`normalize_header`, so full-width
brackets, letter case, surrounding spaces and a trailing ``*`` do not matter.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class ColumnSpec:
    """One canonical column and the export headers that may hold it.

    The first header is the one the agency's exports use, the second the
    English name; any further ones are synonyms seen in other exports.
    """

    name: str
    headers: tuple[str, ...]
    required: bool = True


_EMPLOYER_ID = ColumnSpec(
    "employer_id",
    (
        "统一社会信用代码",
        "employer_id",
        "单位统一社会信用代码",
        "用人单位统一社会信用代码",
        "社会信用代码",
        "信用代码",
    ),
)

HEADER_MAP: dict[str, tuple[ColumnSpec, ...]] = {
    "employers": (
        _EMPLOYER_ID,
        ColumnSpec("id_scheme", ("代码类型", "id_scheme"), required=False),
        ColumnSpec("name", ("单位名称", "name", "用人单位名称", "企业名称", "employer_name")),
        ColumnSpec(
            "industry_code", ("行业代码", "industry_code", "国民经济行业代码", "行业分类代码")
        ),
        ColumnSpec(
            "district_code",
            (
                "所属区县",
                "district_code",
                "区县",
                "所属区域",
                "区县代码",
                "行政区划代码",
                "district",
            ),
        ),
    ),
    "headcounts": (
        _EMPLOYER_ID,
        ColumnSpec("year", ("年度", "year", "年份", "统计年度")),
        ColumnSpec("insured_headcount", ("参保人数", "insured_headcount", "参保职工人数")),
        ColumnSpec("hours_worked", ("工时", "hours_worked", "总工时"), required=False),
    ),
    "incidents": (
        ColumnSpec("incident_id", ("工伤认定书编号", "incident_id", "认定书编号", "工伤认定编号")),
        _EMPLOYER_ID,
        ColumnSpec(
            "occurred_on", ("事故发生日期", "occurred_on", "事故日期", "受伤日期", "发生日期")
        ),
        ColumnSpec("accident_type", ("事故类别", "accident_type", "事故类型")),
        ColumnSpec("severity", ("伤害程度", "severity", "受伤害程度")),
        ColumnSpec(
            "lost_workdays",
            ("停工留薪期(天)", "lost_workdays", "停工留薪期", "停工留薪天数"),
            required=False,
        ),
        ColumnSpec(
            "disability_grade", ("伤残等级", "disability_grade", "伤残级别"), required=False
        ),
        ColumnSpec(
            "is_commuting", ("是否上下班途中", "is_commuting", "上下班途中"), required=False
        ),
        ColumnSpec("source_event_code", ("原始事件代码", "source_event_code"), required=False),
    ),
    "hazard_findings": (
        ColumnSpec("finding_id", ("隐患编号", "finding_id")),
        _EMPLOYER_ID,
        ColumnSpec("inspected_on", ("检查日期", "inspected_on", "排查日期", "发现日期")),
        ColumnSpec("hazard_category", ("隐患类别", "hazard_category", "隐患类型")),
        ColumnSpec("hazard_level", ("隐患等级", "hazard_level", "隐患级别")),
        ColumnSpec("rectified_on", ("整改日期", "rectified_on", "整改完成日期"), required=False),
        ColumnSpec("description", ("隐患描述", "description", "隐患内容"), required=False),
    ),
    "training_records": (
        ColumnSpec("record_id", ("培训记录编号", "record_id")),
        _EMPLOYER_ID,
        ColumnSpec("course_id", ("课程编号", "course_id")),
        ColumnSpec("delivered_on", ("培训日期", "delivered_on", "授课日期")),
        ColumnSpec("attendees", ("参训人数", "attendees", "培训人数")),
    ),
    "courses": (
        ColumnSpec("course_id", ("课程编号", "course_id")),
        ColumnSpec("title_zh", ("课程名称", "title_zh")),
        ColumnSpec("title_en", ("英文名称", "title_en"), required=False),
        ColumnSpec("accident_types", ("事故类别", "accident_types"), required=False),
        ColumnSpec("industries", ("适用行业", "industries"), required=False),
        ColumnSpec("hours", ("学时", "hours")),
        ColumnSpec("mode", ("培训形式", "mode")),
        ColumnSpec("class_size", ("班额", "class_size")),
        ColumnSpec("qualification", ("师资资质", "qualification"), required=False),
    ),
    "trainers": (
        ColumnSpec("trainer_id", ("培训机构编号", "trainer_id", "机构编号")),
        ColumnSpec("organisation", ("机构名称", "organisation", "organization", "培训机构名称")),
        ColumnSpec("qualifications", ("资质", "qualifications"), required=False),
        ColumnSpec("district_codes", ("服务区县", "district_codes"), required=False),
        ColumnSpec("sessions_per_week", ("每周场次", "sessions_per_week")),
    ),
}

# Personal data of workers: dropped as soon as a file is read, whatever its kind.
PERSONAL_DATA_HEADERS: tuple[str, ...] = (
    "姓名",
    "职工姓名",
    "受伤职工姓名",
    "身份证号",
    "身份证号码",
    "公民身份号码",
    "证件号码",
    "手机号",
    "手机号码",
    "联系电话",
    "电话",
    "家庭住址",
    "住址",
    "出生日期",
    "电子邮箱",
    "name of worker",
    "worker_name",
    "employee_name",
    "id_number",
    "id_card",
    "national_id",
    "phone",
    "phone_number",
    "mobile",
    "telephone",
    "address",
    "home_address",
    "email",
    "date_of_birth",
)

# On every file except the employer file, a bare "name" column is the worker's name.
WORKER_NAME_HEADER = "name"


def normalize_header(header: str) -> str:
    """Return the form of ``header`` used for matching: NFKC, trimmed, case-folded, no ``*``."""
    text = unicodedata.normalize("NFKC", str(header)).strip().strip("*").strip()
    return "_".join(text.casefold().replace("-", " ").split())


_PERSONAL = frozenset(normalize_header(header) for header in PERSONAL_DATA_HEADERS)


def is_personal_data(header: str, kind: str | None) -> bool:
    """Return True when a column with this header contains personal data of a worker."""
    normalized = normalize_header(header)
    if normalized in _PERSONAL:
        return True
    return kind != "employers" and normalized == WORKER_NAME_HEADER


@dataclass(frozen=True)
class HeaderMatch:
    """The table kind recognised from a file's headers, and where each column comes from.

    ``columns`` maps each canonical column found to the original header;
    ``missing`` lists the required canonical columns that are absent.
    """

    kind: str
    columns: dict[str, str]
    missing: tuple[str, ...]


def match_headers(kind: str, headers: list[str]) -> HeaderMatch:
    """Match ``headers`` against the columns of one table kind."""
    by_normalized: dict[str, str] = {}
    for header in headers:
        by_normalized.setdefault(normalize_header(header), header)

    columns: dict[str, str] = {}
    missing: list[str] = []
    for spec in HEADER_MAP[kind]:
        found = [
            by_normalized[h] for h in map(normalize_header, spec.headers) if h in by_normalized
        ]
        if found:
            columns[spec.name] = found[0]
        elif spec.required:
            missing.append(spec.name)
    return HeaderMatch(kind, columns, tuple(missing))


def recognize_kind(headers: list[str]) -> HeaderMatch | None:
    """Return the table kind whose required columns are all among ``headers``, or None.

    When several kinds match, the one with the most matched columns wins, so a
    headcount file is not taken for an employer file and vice versa.
    """
    complete = [match_headers(kind, headers) for kind in HEADER_MAP]
    complete = [match for match in complete if not match.missing]
    if not complete:
        return None
    return max(complete, key=lambda match: len(match.columns))


def closest_kind(headers: list[str]) -> HeaderMatch:
    """Return the kind that matches most required columns, to explain a rejected file."""
    matches = [match_headers(kind, headers) for kind in HEADER_MAP]
    return min(matches, key=lambda match: (len(match.missing), -len(match.columns)))


def duplicate_columns(headers: list[str], match: HeaderMatch) -> list[list[str]]:
    """Return groups of headers that map to the same canonical column of ``match.kind``."""
    groups: list[list[str]] = []
    for spec in HEADER_MAP[match.kind]:
        accepted = {normalize_header(header) for header in spec.headers}
        found = [header for header in headers if normalize_header(header) in accepted]
        if len(found) > 1:
            groups.append(found)
    return groups


def canonical_header(kind: str, column: str) -> str:
    """Return the header an export of ``kind`` uses for ``column`` (the first accepted one)."""
    for spec in HEADER_MAP[kind]:
        if spec.name == column:
            return spec.headers[0]
    raise KeyError(f"{kind!r} has no column {column!r}")
