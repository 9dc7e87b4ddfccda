"""Agency-style export files of the demo data: Chinese headers, mixed encodings and formats.

Each table is written the way a different office might export it, so ingest
meets every format it has to read: UTF-8 with BOM, GB18030, plain UTF-8, two
styles of Chinese dates, and XLSX. The incident file also carries the injured
workers' names, ID numbers and phone numbers, which ingest must drop.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

from risk import codelists
from risk.demo import identifiers

HEADERS = {
    "employers": ["统一社会信用代码", "单位名称", "行业代码", "所属区县"],
    "headcounts": ["统一社会信用代码", "年度", "参保人数"],
    "incidents": [
        "工伤认定书编号", "统一社会信用代码", "姓名", "身份证号", "手机号", "事故发生日期",
        "事故类别", "伤害程度", "停工留薪期(天)", "伤残等级", "是否上下班途中",
    ],
    "hazard_findings": [
        "隐患编号", "统一社会信用代码", "检查日期", "隐患类别", "隐患等级", "整改日期", "隐患描述",
    ],
    "training_records": ["培训记录编号", "统一社会信用代码", "课程编号", "培训日期", "参训人数"],
}
# File name and text encoding of each export. None marks the XLSX file.
EXPORT_FILES = {
    "employers": ("employers.csv", "utf-8-sig"),
    "headcounts": ("headcounts.csv", "gb18030"),
    "incidents": ("incidents.csv", "utf-8"),
    "hazard_findings": ("hazard_findings.csv", "utf-8-sig"),
    "training_records": ("training_records.xlsx", None),
}
PERSONAL_DATA_COLUMNS = ("姓名", "身份证号", "手机号")

_SEVERITY_ZH = {"minor": "轻伤", "serious": "重伤", "fatal": "死亡"}
_LEVEL_ZH = {"general": "一般隐患", "major": "重大隐患"}
_GRADE_ZH = np.array(
    ["", "一级", "二级", "三级", "四级", "五级", "六级", "七级", "八级", "九级", "十级"]
)
# Fixed timestamp inside the XLSX package so the same seed gives the same bytes.
_XLSX_TIMESTAMP = (2000, 1, 1, 0, 0, 0)
_CORE_DATES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def build_export_frames(
    tables: dict[str, pd.DataFrame], rng: np.random.Generator
) -> dict[str, pd.DataFrame]:
    """Turn canonical frames into export frames with Chinese headers and agency formats."""
    return {
        "employers": _employers(tables["employers"], rng),
        "headcounts": _headcounts(tables["headcounts"]),
        "incidents": _incidents(tables["incidents"], rng),
        "hazard_findings": _hazard_findings(tables["hazard_findings"], rng),
        "training_records": _training_records(tables["training_records"]),
    }


def write_exports(frames: dict[str, pd.DataFrame], exports_dir: Path) -> dict[str, Path]:
    """Write every export frame to ``exports_dir`` and return the path of each table's file."""
    exports_dir.mkdir(parents=True, exist_ok=True)
    paths = {}
    for table, (file_name, encoding) in EXPORT_FILES.items():
        path = exports_dir / file_name
        if encoding is None:
            _write_xlsx(frames[table], path)
        else:
            frames[table].to_csv(path, index=False, encoding=encoding, lineterminator="\r\n")
        paths[table] = path
    return paths


def _employers(employers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    names = codelists.districts().set_index("code")["name_zh"]
    by_name = rng.random(len(employers)) < 0.4
    district = np.where(
        by_name, names.reindex(employers["district_code"]).to_numpy(), employers["district_code"]
    )
    return pd.DataFrame({
        "统一社会信用代码": employers["employer_id"].to_numpy(),
        "单位名称": employers["name"].to_numpy(),
        "行业代码": employers["industry_code"].to_numpy(),
        "所属区县": district,
    })


def _headcounts(headcounts: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "统一社会信用代码": headcounts["employer_id"].to_numpy(),
        "年度": headcounts["year"].to_numpy(),
        "参保人数": headcounts["insured_headcount"].to_numpy(),
    })


def _incidents(incidents: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    size = len(incidents)
    occurred = incidents["occurred_on"].to_numpy().astype("datetime64[D]")
    age_days = rng.integers(18 * 365, 60 * 365, size=size).astype("timedelta64[D]")
    grade = incidents["disability_grade"].fillna(0).to_numpy(dtype=np.int64)
    grade_text = np.where(rng.random(size) < 0.5, _GRADE_ZH[grade], grade.astype(str))
    lost = incidents["lost_workdays"]
    return pd.DataFrame({
        "工伤认定书编号": incidents["incident_id"].to_numpy(),
        "统一社会信用代码": incidents["employer_id"].to_numpy(),
        "姓名": identifiers.make_person_names(rng, size),
        "身份证号": identifiers.make_resident_ids(rng, occurred - age_days),
        "手机号": identifiers.make_phone_numbers(rng, size),
        "事故发生日期": np.datetime_as_string(occurred, unit="D"),
        "事故类别": _accident_type_text(incidents["accident_type"].to_numpy(), rng),
        "伤害程度": incidents["severity"].map(_SEVERITY_ZH).to_numpy(),
        "停工留薪期(天)": np.where(lost.isna(), "", lost.astype(str).to_numpy()),
        "伤残等级": np.where(grade > 0, grade_text, ""),
        "是否上下班途中": np.where(incidents["is_commuting"].to_numpy(), "是", "否"),
    })


def _accident_type_text(codes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    names = codelists.accident_types().set_index("code")["name_zh"]
    text = names.reindex(codes).to_numpy().astype(str)
    # Some clerks type the code, and many write 其他 for the standard's 其它.
    text = np.where(rng.random(len(codes)) < 0.05, codes.astype(str), text)
    # np.char.replace fails on an empty array (numpy 2.4), hence the list.
    variant = np.array([value.replace("其它", "其他") for value in text], dtype=str)
    return np.where(rng.random(len(codes)) < 0.3, variant, text)


def _hazard_findings(findings: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    names = codelists.hazard_categories().set_index("code")["name_zh"]
    category = findings["hazard_category"].to_numpy()
    category_text = np.where(
        rng.random(len(findings)) < 0.1, category, names.reindex(category).to_numpy()
    )
    chinese_style = rng.random(len(findings)) < 0.5
    return pd.DataFrame({
        "隐患编号": findings["finding_id"].to_numpy(),
        "统一社会信用代码": findings["employer_id"].to_numpy(),
        "检查日期": _office_dates(findings["inspected_on"], chinese_style),
        "隐患类别": category_text,
        "隐患等级": findings["hazard_level"].map(_LEVEL_ZH).to_numpy(),
        "整改日期": _office_dates(findings["rectified_on"], chinese_style),
        "隐患描述": findings["description"].to_numpy(),
    })


def _office_dates(dates: pd.Series, chinese_style: np.ndarray) -> np.ndarray:
    # 2023年3月5日 or 2023/3/5, without zero padding, as Excel and WPS show them.
    year = dates.dt.year.astype("Int64").astype(str)
    month = dates.dt.month.astype("Int64").astype(str)
    day = dates.dt.day.astype("Int64").astype(str)
    chinese = (year + "年" + month + "月" + day + "日").to_numpy()
    slashed = (year + "/" + month + "/" + day).to_numpy()
    text = np.where(chinese_style, chinese, slashed)
    return np.where(dates.isna().to_numpy(), "", text)


def _training_records(records: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "培训记录编号": records["record_id"].to_numpy(),
        "统一社会信用代码": records["employer_id"].to_numpy(),
        "课程编号": records["course_id"].to_numpy(),
        "培训日期": records["delivered_on"].dt.date.to_numpy(),
        "参训人数": records["attendees"].to_numpy(),
    })


def _write_xlsx(frame: pd.DataFrame, path: Path) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("培训记录")
    sheet.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        sheet.append([_cell_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(_fix_xlsx_timestamps(buffer.getvalue()))


def _cell_value(value: object) -> object:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, dt.datetime):
        return value.date()
    return value


def _fix_xlsx_timestamps(package: bytes) -> bytes:
    # openpyxl stamps the save time into docProps/core.xml and every zip entry.
    # Both are replaced with a constant, so the file depends on the data only.
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(package)) as source, zipfile.ZipFile(fixed, "w") as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "docProps/core.xml":
                data = _CORE_DATES.sub(rb"\g<1>2000-01-01T00:00:00Z\g<3>", data)
            info = zipfile.ZipInfo(entry.filename, date_time=_XLSX_TIMESTAMP)
            info.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(info, data)
    return fixed.getvalue()
