"""Parsing of text cells: NFKC, dates, numbers, flags and code lists.

Columns of codes, dates and numbers repeat few distinct values (a few
thousand dates in millions of rows), so :func:`parse_column` factorizes the
column, parses each distinct value once in Python and spreads the results
back with one ``take``. Every cell is NFKC-normalized first, which turns
full-width digits, letters and brackets into ASCII.

A parser returns the parsed value, ``None`` for a blank cell, or
``INVALID`` for text it cannot read; :func:`parse_column` reports the invalid
cells instead of turning them into NA silently.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from risk import codelists

INVALID = object()
"""Returned by a parser for text that is not a value of its kind."""

Parser = Callable[[str], object]

_DATE_YMD = re.compile(
    r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_EXCEL_SERIAL = re.compile(r"\d{1,5}(?:\.\d+)?")
# Excel's day 0; the 1900 leap-year bug only shifts serials before 1900-03-01.
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_INTEGER = re.compile(r"([+-]?\d+)(?:\.0*)?")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_UNIT_SUFFIX = re.compile(r"\s*(?:天|日|人|名|次|场|个|学时|小时|h)$")
_LIST_SPLIT = re.compile(r"\s*[|、,;/]\s*")
_CHINESE_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}
_BLANK_GRADES = frozenset({"无", "-", "/", "否", "none", "n/a"})
_TRUE = frozenset({"是", "y", "yes", "true", "t", "1", "√"})
_FALSE = frozenset({"否", "n", "no", "false", "f", "0", "×"})


def nfkc(text: str) -> str:
    """Return ``text`` NFKC-normalized and stripped."""
    return unicodedata.normalize("NFKC", text).strip()


def clean_text(values: pd.Series) -> pd.Series:
    """Return text cells NFKC-normalized and stripped, with blank cells as NA.

    This runs in Arrow, so it also suits identifier columns where every value
    is distinct and :func:`parse_column` would gain nothing.
    """
    array = pa.array(values.astype("str"), type=pa.large_string())
    array = pc.utf8_trim_whitespace(pc.utf8_normalize(array, form="NFKC"))
    array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.large_string()), array)
    cleaned = array.to_pandas().astype("str")
    cleaned.index = values.index
    return cleaned


def parse_column(values: pd.Series, parser: Parser, dtype: object) -> tuple[pd.Series, pd.Series]:
    """Parse every cell of ``values`` with ``parser``.

    Parameters
    ----------
    values : Series of str
        Raw cells; blank cells are missing values.
    parser : callable
        Takes NFKC-normalized, stripped, non-blank text; returns the value,
        ``None`` for a missing value, or ``INVALID``.
    dtype : pandas dtype
        The dtype of the parsed column, e.g. ``"Int64"`` or ``"datetime64[us]"``.

    Returns
    -------
    parsed : Series
        The parsed values, NA where the cell is blank or invalid.
    invalid : Series of bool
        True where the cell is not blank and the parser rejected it.
    """
    codes, uniques = pd.factorize(values.astype("str"), use_na_sentinel=True)
    results: list[object] = []
    rejected: list[bool] = []
    for raw in uniques:
        text = nfkc(raw)
        value = None if text == "" else parser(text)
        rejected.append(value is INVALID)
        results.append(None if value is INVALID else value)

    missing = codes < 0
    take = np.where(missing, len(uniques), codes)
    invalid = np.append(np.asarray(rejected, dtype=bool), False)[take]
    if str(dtype).startswith("datetime64"):
        stamps = [np.datetime64("NaT") if value is None else value for value in results]
        unique_values = pd.array(np.asarray(stamps + [np.datetime64("NaT")], dtype=dtype))
    else:
        unique_values = pd.array(results + [None], dtype=dtype)
    parsed = pd.Series(unique_values.take(take), index=values.index)
    return parsed, pd.Series(invalid, index=values.index)


def parse_date(text: str) -> object:
    """Parse 2023-03-05, 2023/3/5, 2023.3.5, 2023年3月5日, 20230305 or an Excel serial number."""
    parts = _DATE_YMD.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if parts:
        try:
            return np.datetime64(dt.date(*(int(part) for part in parts.groups())))
        except ValueError:
            return INVALID
    if _EXCEL_SERIAL.fullmatch(text) and float(text) >= 1:
        return np.datetime64(_EXCEL_EPOCH + dt.timedelta(days=int(float(text))))
    return INVALID


def parse_integer(text: str) -> object:
    """Parse a whole number, allowing ``1,234``, ``12.0`` and a unit such as 天 or 人."""
    text = _UNIT_SUFFIX.sub("", text)
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    match = _INTEGER.fullmatch(text)
    return int(match.group(1)) if match else INVALID


def parse_float(text: str) -> object:
    """Parse a finite decimal number, allowing ``1,234.5`` and a unit such as 学时."""
    text = _UNIT_SUFFIX.sub("", text)
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return INVALID
    return value if math.isfinite(value) else INVALID


def parse_flag(text: str) -> object:
    """Parse 是/否, Y/N, yes/no, true/false or 1/0."""
    folded = text.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return INVALID


def chinese_numeral(text: str) -> int | None:
    """Return the value of a Chinese numeral from 一 to 九十九, or None."""
    if text in _CHINESE_DIGITS:
        return _CHINESE_DIGITS[text]
    tens, ten, units = text.partition("十")
    if (
        not ten
        or (tens and tens not in _CHINESE_DIGITS)
        or (units and units not in _CHINESE_DIGITS)
    ):
        return None
    return _CHINESE_DIGITS.get(tens, 1) * 10 + _CHINESE_DIGITS.get(units, 0)


def parse_disability_grade(text: str) -> object:
    """Parse a disability grade: 7, 7级, 七级 or 七; 无 and - mean no grade."""
    if text.casefold() in _BLANK_GRADES:
        return None
    text = text.removeprefix("伤残").removesuffix("级")
    value = chinese_numeral(text)
    return value if value is not None else parse_integer(text)


@cache
def _lookup(kind: str) -> dict[str, str]:
    table: dict[str, str] = {}
    if kind == "accident_type":
        table.update(codelists.accident_type_by_name())
        table.update({"其他爆炸": "18", "其他伤害": "20"})
        return table
    frame = {
        "severity": codelists.severities,
        "district": codelists.districts,
        "hazard_category": codelists.hazard_categories,
        "hazard_level": codelists.hazard_levels,
    }[kind]()
    for row in frame.itertuples(index=False):
        table[row.code.casefold()] = row.code
        table[row.name_zh] = row.code
        table[row.name_en.casefold()] = row.code
        if kind == "district":
            # Exports also write the name without its 区/县/市 suffix, or with the city in front.
            table[row.name_zh[:-1]] = row.code
            for prefix in ("杭州市", "浙江省杭州市"):
                table[prefix + row.name_zh] = row.code
        if kind == "hazard_level":
            # 一般隐患 is short for 一般事故隐患, the level's name in the code list.
            table[row.name_zh.replace("事故", "")] = row.code
            table[row.name_zh[:2]] = row.code
    return table


_EXTRA_SEVERITY = {"轻": "minor", "重": "serious", "亡": "fatal", "死亡事故": "fatal"}
_COURSE_MODES = {
    "现场": "on_site",
    "线下": "on_site",
    "面授": "on_site",
    "on_site": "on_site",
    "on-site": "on_site",
    "onsite": "on_site",
    "线上": "online",
    "在线": "online",
    "网络": "online",
    "online": "online",
}


def code_mapper(kind: str) -> Parser:
    """Return a parser mapping names and codes of a code list to the code.

    Unknown text is returned unchanged, so the schema check reports it with
    the value the user typed.
    """

    def parse(text: str) -> object:
        table = _lookup(kind)
        folded = text.casefold()
        if kind == "accident_type" and folded.isdigit():
            folded = str(int(folded))
        if kind == "severity" and text in _EXTRA_SEVERITY:
            return _EXTRA_SEVERITY[text]
        return table.get(text, table.get(folded, text))

    return parse


@cache
def _section_of_division() -> dict[str, str]:
    divisions = codelists.industry_divisions()
    return dict(zip(divisions["division"], divisions["section"], strict=True))


def parse_industry_code(text: str) -> object:
    """Return a GB/T 4754 class as ``C3311``, adding the section letter to ``3311``."""
    text = text.upper().replace(" ", "")
    if re.fullmatch(r"\d{4}", text) and text[:2] in _section_of_division():
        return _section_of_division()[text[:2]] + text
    return text


def parse_industry_scope(text: str) -> object:
    """Return a section (``C``) or division (``33``) for a course's industry list; ``C33`` is 33."""
    text = text.upper().replace(" ", "")
    return text[1:] if re.fullmatch(r"[A-T]\d{2}", text) else text


def parse_course_mode(text: str) -> object:
    """Return ``on_site`` or ``online`` for the usual names; other text unchanged."""
    return _COURSE_MODES.get(text.casefold(), text)


def list_mapper(item_parser: Parser) -> Parser:
    """Return a parser of a list separated by ``|``, 、, comma, ``;`` or ``/``.

    The parsed items are joined with ``|``, the separator the store uses.
    """

    def parse(text: str) -> object:
        items = [item for item in _LIST_SPLIT.split(text) if item]
        return "|".join(str(item_parser(item)) for item in items)

    return parse


def parse_lowercase(text: str) -> object:
    """Return ``text`` in lower case (identifier schemes such as ``uscc``)."""
    return text.casefold()
