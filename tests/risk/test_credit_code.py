"""Unified social credit codes (GB 32100-2015): the scalar check and the vectorised one."""

from __future__ import annotations

import pandas as pd
from factories import credit_code
from hypothesis import given
from hypothesis import strategies as st

from risk.credit_code import ALPHABET, check_character, credit_code_problem, is_valid_credit_code
from risk.schema import credit_code_valid

# A code published as a worked example of the GB 32100-2015 check character.
PUBLISHED_EXAMPLE = "91350100M000100Y43"


def test_check_character_published_example() -> None:
    """The check character of a published example code is recomputed."""
    assert check_character(PUBLISHED_EXAMPLE[:17]) == "3"
    assert is_valid_credit_code(PUBLISHED_EXAMPLE)


def test_credit_code_problem_bad_check_character() -> None:
    """A wrong last character is reported with the expected one."""
    problem = credit_code_problem(PUBLISHED_EXAMPLE[:17] + "4")

    assert problem is not None
    assert "应为3" in problem[0]
    assert "should be '3'" in problem[1]


def test_credit_code_problem_wrong_length() -> None:
    """A 17-character code is reported with its length."""
    problem = credit_code_problem(PUBLISHED_EXAMPLE[:17])

    assert problem is not None
    assert "got 17" in problem[1]


def test_credit_code_problem_forbidden_letter() -> None:
    """The letters I, O, S, V and Z are not in the code alphabet."""
    problem = credit_code_problem("91350100M000100O43")

    assert problem is not None
    assert "I, O, S, V and Z" in problem[1]


def test_credit_code_valid_matches_scalar_check() -> None:
    """The vectorised check accepts and rejects exactly what the scalar check does."""
    codes = pd.Series(
        [PUBLISHED_EXAMPLE, credit_code(1), PUBLISHED_EXAMPLE[:17] + "4", "short", None, "９１"],
        dtype="str",
    )

    valid = credit_code_valid(codes)

    assert valid.tolist() == [True, True, False, False, False, False]


@given(st.text(alphabet=ALPHABET, min_size=17, max_size=17), st.sampled_from(ALPHABET))
def test_credit_code_valid_agrees_on_random_codes(first17: str, last: str) -> None:
    """For any 18 symbols of the alphabet the two checks agree."""
    code = first17 + last

    vectorised = bool(credit_code_valid(pd.Series([code], dtype="str")).iloc[0])

    assert vectorised == is_valid_credit_code(code)
