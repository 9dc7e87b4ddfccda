"""Personal data of injured workers: dropping its columns and finding ID numbers in text.

Columns of workers' names, ID numbers, phone numbers and addresses are dropped
right after a file is read, before any validation, and a kept text cell that
contains a resident ID number rejects its row. Error reports show such numbers
masked, never in full.

NOTE: a worker's name or phone number typed into free text (a hazard
description) is not detected; only resident ID numbers are.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from risk.ingest.headers import is_personal_data

logger = logging.getLogger(__name__)

# GB 11643-1999 resident ID number: 6-digit area code, birth date YYYYMMDD (years 1900-2099),
# 3-digit sequence and a check digit or X. Written without look-arounds so that Arrow's RE2
# engine, which pandas uses for Arrow-backed strings, runs it too.
ID_NUMBER_PATTERN = (
    r"(?:^|[^0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?:[^0-9]|$)"
)
_ID_NUMBER = re.compile(
    r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
    r"(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9])"
)


def personal_data_columns(headers: list[str], kind: str | None) -> list[int]:
    """Return the positions of the columns that hold workers' personal data."""
    return [position for position, header in enumerate(headers) if is_personal_data(header, kind)]


def contains_id_number(values: pd.Series) -> pd.Series:
    """Return a boolean Series, True where the text contains a resident ID number."""
    found = values.astype("str").str.contains(ID_NUMBER_PATTERN, regex=True)
    return found.fillna(False).astype(bool)


def mask_id_numbers(text: str) -> str:
    """Return ``text`` with every resident ID number masked, e.g. ``3301**********123X``."""
    return _ID_NUMBER.sub(lambda match: match.group()[:4] + "*" * 10 + match.group()[-4:], text)


def log_dropped_columns(path: str, count: int) -> None:
    """Log how many personal-data columns were dropped from a file; cells are never logged."""
    if count:
        logger.info("Dropped %d personal-data column(s) from %s before validation", count, path)
