"""Unified social credit codes (统一社会信用代码), GB 32100-2015.

A code is 18 characters: registration authority (1), entity type (1), the
administrative division code (6 digits), the organisation code (9) and a check
character. Characters come from a 31-symbol alphabet without I, O, S, V and Z.
"""

from __future__ import annotations

import re

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_VALUE = {symbol: index for index, symbol in enumerate(ALPHABET)}
_SHAPE = re.compile(r"^[0-9A-HJ-NP-RTUWXY]{2}\d{6}[0-9A-HJ-NP-RTUWXY]{10}$")


def check_character(first17: str) -> str:
    """Compute the check character for the first 17 characters of a code."""
    total = sum(_VALUE[symbol] * weight for symbol, weight in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def credit_code_problem(code: str) -> tuple[str, str] | None:
    """Return why ``code`` is not a valid credit code, in Chinese and English, or None if valid."""
    if len(code) != 18:
        return (
            f"统一社会信用代码应为18位，实为{len(code)}位",
            f"a unified social credit code has 18 characters, got {len(code)}",
        )
    if not _SHAPE.match(code):
        return (
            "统一社会信用代码含有不允许的字符（不使用I、O、S、V、Z，第3-8位为数字）",
            "invalid character: the alphabet excludes I, O, S, V and Z,"
            " and characters 3-8 are digits",
        )
    expected = check_character(code[:17])
    if code[17] != expected:
        return (
            f"校验位错误：应为{expected}，实为{code[17]}，请核对代码是否录入有误",
            f"check character is {code[17]!r} but should be {expected!r}; check the code for typos",
        )
    return None


def is_valid_credit_code(code: str) -> bool:
    """Return True when ``code`` is a well-formed credit code with a correct check character."""
    return credit_code_problem(code) is None
