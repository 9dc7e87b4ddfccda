"""Mappings from public US codes to the platform's code lists (see ``mappings/README.md``).

Every mapping is a CSV file in ``risk/public/mappings/`` with its source named
in that folder's README. The lookups here pick the most specific row: the
longest code prefix, or the narrowest CFR section range.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

import pandas as pd

from risk import codelists

_MAPPINGS = "mappings"


@cache
def _read_mapping(name: str) -> pd.DataFrame:
    path = resources.files("risk.public").joinpath(_MAPPINGS, name)
    with path.open("r", encoding="utf-8") as handle:
        # Codes are read as text, so that the prefix "42" matches "4212" character by character.
        return pd.read_csv(handle, dtype=str, keep_default_na=False)


def cfr_sections() -> pd.DataFrame:
    """Return the CFR section ranges with their subpart, title and hazard category."""
    frame = _read_mapping("msha_cfr_sections.csv").copy()
    for column in ("section_first", "section_last"):
        frame[column] = frame[column].astype(int)
    return frame


def oiics_to_gb6441() -> pd.DataFrame:
    """Return OIICS event-or-exposure code prefixes with their GB 6441-86 accident type."""
    return _read_mapping("oiics_to_gb6441.csv").copy()


def naics_to_gb4754() -> pd.DataFrame:
    """Return NAICS code prefixes with a GB/T 4754-2017 industry class."""
    return _read_mapping("naics_to_gb4754.csv").copy()


def msha_mine_types() -> pd.DataFrame:
    """Return MSHA commodity and mine type pairs with their GB/T 4754-2017 industry class."""
    return _read_mapping("msha_mine_types.csv").copy()


def state_abbreviation(state: str) -> str | None:
    """Return the USPS abbreviation of a US state given by name or abbreviation, or None."""
    text = " ".join(state.upper().split())
    return _states().get(text)


@cache
def _states() -> dict[str, str]:
    table = _read_mapping("us_states.csv")
    lookup = dict(zip(table["name"], table["abbreviation"], strict=True))
    lookup.update({code: code for code in table["abbreviation"]})
    return lookup


def public_sources() -> pd.DataFrame:
    """Return the official download addresses and expected formats of the public files."""
    frame = _read_mapping("public_sources.csv").copy()
    frame["min_bytes"] = frame["min_bytes"].astype(int)
    return frame


_SECTION = re.compile(r"^(?P<part>\d+)\.(?P<number>\d+)(?:-\d+)?[a-z]?$")


def hazard_category_of_section(section: str) -> str | None:
    """Return the hazard category of a 30 CFR section such as ``75.1722`` or ``77.403-2``.

    Returns None when the section is malformed or no range of the mapping covers it.
    """
    match = _SECTION.match(section.strip())
    if match is None:
        return None
    return _section_lookup().get((int(match["part"]), int(match["number"])))


@cache
def _section_lookup() -> dict[tuple[int, int], str]:
    # Expand ranges narrowest last, so a section-level override replaces its subpart's default.
    table = cfr_sections()
    table = table.assign(width=table["section_last"] - table["section_first"])
    lookup: dict[tuple[int, int], str] = {}
    for row in table.sort_values("width", ascending=False, kind="stable").itertuples(index=False):
        for number in range(row.section_first, row.section_last + 1):
            lookup[(int(row.cfr_part), number)] = row.hazard_category
    return lookup


def _longest_prefix(code: str, table: pd.DataFrame, key: str, value: str) -> str | None:
    code = code.strip()
    best: str | None = None
    best_length = 0
    for prefix, mapped in zip(table[key], table[value], strict=True):
        if code.startswith(prefix) and len(prefix) > best_length:
            best, best_length = mapped, len(prefix)
    return best


def accident_type_of_oiics(event_code: str) -> str | None:
    """Return the GB 6441-86 accident type (``"01"``..``"20"``) of an OIICS event code.

    The longest matching prefix wins, so ``"4331"`` (fall to lower level) maps
    through ``"43"``. Returns None for a code no prefix covers.
    """
    if not event_code.strip().isdigit():
        return None
    return _longest_prefix(event_code, oiics_to_gb6441(), "oiics_prefix", "gb6441_code")


def industry_of_naics(naics_code: str) -> str | None:
    """Return the GB/T 4754-2017 class of a NAICS code, or None when it is not mapped."""
    if not naics_code.strip().isdigit():
        return None
    return _longest_prefix(naics_code, naics_to_gb4754(), "naics_prefix", "industry_code")


def industry_of_mine(coal_or_metal: str, mine_type: str) -> str | None:
    """Return the GB/T 4754-2017 class of an MSHA mine, or None for an unmapped type."""
    return _mine_type_lookup().get((coal_or_metal.strip(), mine_type.strip()))


@cache
def _mine_type_lookup() -> dict[tuple[str, str], str]:
    table = msha_mine_types()
    return {
        (row.coal_or_metal, row.mine_type): row.industry_code
        for row in table.itertuples(index=False)
    }


def check_mappings() -> list[str]:
    """Return every mapping row whose target is not in the platform's code lists.

    An empty list means each hazard category, accident type and industry
    division named by a mapping exists in ``risk/codes``.
    """
    problems: list[str] = []
    categories = set(codelists.hazard_categories()["code"])
    for row in cfr_sections().itertuples(index=False):
        if row.hazard_category not in categories:
            problems.append(
                f"msha_cfr_sections.csv: unknown hazard category {row.hazard_category!r}"
            )
    accident_types = set(codelists.accident_types()["code"])
    for row in oiics_to_gb6441().itertuples(index=False):
        if row.gb6441_code not in accident_types:
            problems.append(f"oiics_to_gb6441.csv: unknown accident type {row.gb6441_code!r}")
    industries = [*naics_to_gb4754()["industry_code"], *msha_mine_types()["industry_code"]]
    for code in industries:
        if codelists.industry_section_of(code) != code[:1]:
            problems.append(f"industry {code!r} does not match a GB/T 4754 division of its section")
    return problems
