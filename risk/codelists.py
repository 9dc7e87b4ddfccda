"""Standard code lists shipped with the package (see ``risk/codes/README.md``)."""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

_CODES_PACKAGE = "risk.codes"


@cache
def _read_code_file(name: str) -> pd.DataFrame:
    with resources.files(_CODES_PACKAGE).joinpath(name).open("r", encoding="utf-8") as handle:
        # Every column is text: codes such as "01" or "330102" must keep leading zeros.
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def accident_types() -> pd.DataFrame:
    """Return GB 6441-86 accident types: ``code``, ``name_zh``, ``name_en``, ``group``."""
    return _read_code_file("accident_types.csv").copy()


def accident_type_groups() -> pd.DataFrame:
    """Return the accident-type groups used by features: ``group``, ``name_zh``, ``name_en``."""
    return _read_code_file("accident_type_groups.csv").copy()


def severities() -> pd.DataFrame:
    """Return GB 6441-86 severities with lost-workday bounds and a numeric ``weight``."""
    frame = _read_code_file("severities.csv").copy()
    frame["weight"] = frame["weight"].astype(float)
    return frame


def hazard_levels() -> pd.DataFrame:
    """Return hazard levels (general, major)."""
    return _read_code_file("hazard_levels.csv").copy()


def hazard_categories() -> pd.DataFrame:
    """Return hazard categories; ``accident_types`` is a ``|``-separated list of GB 6441 codes."""
    return _read_code_file("hazard_categories.csv").copy()


def industry_sections() -> pd.DataFrame:
    """Return GB/T 4754-2017 sections A-T."""
    return _read_code_file("industry_sections.csv").copy()


def industry_divisions() -> pd.DataFrame:
    """Return GB/T 4754-2017 divisions with ``section`` and work-injury ``risk_class`` (1-8)."""
    frame = _read_code_file("industry_divisions.csv").copy()
    frame["risk_class"] = frame["risk_class"].astype(int)
    return frame


def districts() -> pd.DataFrame:
    """Return Hangzhou county-level district codes (GB/T 2260)."""
    return _read_code_file("districts.csv").copy()


@cache
def accident_type_by_name() -> dict[str, str]:
    """Map Chinese and English accident-type names, and their codes, to the two-digit code."""
    table = _read_code_file("accident_types.csv")
    mapping: dict[str, str] = {}
    for row in table.itertuples(index=False):
        mapping[row.code] = row.code
        mapping[str(int(row.code))] = row.code
        mapping[row.name_zh] = row.code
        mapping[row.name_en.lower()] = row.code
    # Exports also write the variant characters 其他 for 其它.
    mapping["其他伤害"] = "20"
    mapping["其他爆炸"] = "18"
    return mapping


def industry_division_of(industry_code: str) -> str:
    """Return the two-digit division of a GB/T 4754 code such as ``C3311`` or ``3311``."""
    digits = industry_code[1:] if industry_code[:1].isalpha() else industry_code
    return digits[:2]


@cache
def _division_table() -> dict[str, tuple[str, int]]:
    table = industry_divisions()
    return {
        row.division: (row.section, int(row.risk_class))
        for row in table.itertuples(index=False)
    }


def industry_section_of(industry_code: str) -> str | None:
    """Return the section letter of an industry code, or None for an unknown division."""
    entry = _division_table().get(industry_division_of(industry_code))
    return None if entry is None else entry[0]


def risk_class_of(industry_code: str) -> int | None:
    """Return the work-injury insurance risk class (1-8) of an industry code, or None."""
    entry = _division_table().get(industry_division_of(industry_code))
    return None if entry is None else entry[1]
