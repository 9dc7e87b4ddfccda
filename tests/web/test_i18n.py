"""Message catalogues: both languages have every key, and every key a page uses exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.web.i18n import Translator, catalogue, choose_language

WEB = Path(__file__).resolve().parents[2] / "api" / "web"


def _used_keys() -> set[str]:
    sources = [*WEB.glob("templates/*.html"), *WEB.rglob("*.py")]
    text = "\n".join(path.read_text("utf-8") for path in sources)
    keys = set(re.findall(r"""t\(\s*['"]([a-z_]+\.[a-z_.0-9]+)['"]""", text))
    keys |= set(re.findall(r"""PageError\([^)]*?['"]([a-z_]+\.[a-z_.0-9]+)['"]""", text))
    # A key ending in "." is the prefix of keys built from a value, such as "role." + role.
    return {key for key in keys if not key.endswith(".")}


def test_catalogues_have_same_keys() -> None:
    """The Chinese and English catalogues define exactly the same keys."""
    assert set(catalogue("zh")) == set(catalogue("en"))


def test_used_keys_defined() -> None:
    """Every message key named in the templates and handlers is in the catalogue."""
    missing = sorted(_used_keys() - set(catalogue("zh")))

    assert missing == []


def test_placeholders_match() -> None:
    """A message has the same ``{fields}`` in both languages."""
    fields = re.compile(r"\{(\w+)")
    english = catalogue("en")
    for key, text in catalogue("zh").items():
        assert set(fields.findall(text)) == set(fields.findall(english[key])), key


def test_translator_code_names() -> None:
    """Code-list names come from the code lists in the page language."""
    assert Translator("zh").code("district", "330106") == "西湖区"
    assert Translator("en").code("accident_type", "09") == "fall from height"
    assert Translator("en").code("district", "999999") == "999999"


@pytest.mark.parametrize(
    ("query", "cookie", "header", "expected"),
    [
        ("en", "zh", "zh-CN", "en"),
        (None, "en", "zh-CN", "en"),
        (None, None, "en-GB,en;q=0.9", "en"),
        (None, None, None, "zh"),
        ("fr", "xx", "zh-CN,zh;q=0.9", "zh"),
    ],
)
def test_choose_language_order(
    query: str | None, cookie: str | None, header: str | None, expected: str
) -> None:
    """``?lang=`` beats the cookie, which beats ``Accept-Language``; Chinese is the default."""
    assert choose_language(query, cookie, header) == expected
