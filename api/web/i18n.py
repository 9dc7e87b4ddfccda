"""Message catalogues of the web pages: Simplified Chinese (default) and English.

Page text lives in ``messages/zh-CN.json`` and ``messages/en.json``, one key
per message, with ``str.format`` fields such as ``{count}``. Code-list names
(districts, industry sections, accident types, ...) come from ``risk/codes``.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from api.problems import preferred_language
from risk import codelists
from risk.scoring import RISK_BANDS
from risk.size_bands import SIZE_BANDS

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
_CATALOGUE_FILES = {"zh": "zh-CN.json", "en": "en.json"}


@cache
def catalogue(language: str) -> dict[str, str]:
    """Return the messages of ``language`` ("zh" or "en"), read once."""
    text = (
        resources.files("api.web")
        .joinpath("messages", _CATALOGUE_FILES[language])
        .read_text("utf-8")
    )
    messages: dict[str, str] = json.loads(text)
    return messages


class Translator:
    """Look up page messages and code-list names in one language.

    Parameters
    ----------
    language : {"zh", "en"}
        The page language.
    """

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self._messages = catalogue(self.language)

    def __call__(self, key: str, **fields: Any) -> str:
        """Return message ``key`` with ``fields`` filled in.

        Raises
        ------
        KeyError
            If neither catalogue has ``key``; a test keeps both catalogues complete.
        """
        template = self._messages.get(key)
        if template is None:
            template = catalogue(DEFAULT_LANGUAGE)[key]
        return template.format(**fields) if fields else template

    def code(self, kind: str, code: str | None) -> str:
        """Return the name of ``code`` in code list ``kind``, or the code itself when unknown."""
        if code is None:
            return "—"
        names = _code_names(kind)
        pair = names.get(code)
        if pair is None:
            return code
        return pair[1] if self.language == "en" else pair[0]

    def options(self, kind: str) -> list[tuple[str, str]]:
        """Return ``(code, name)`` pairs of code list ``kind`` in list order."""
        return [(code, self.code(kind, code)) for code in _code_names(kind)]


@cache
def _code_names(kind: str) -> dict[str, tuple[str, str]]:
    if kind == "band":
        return {code: (zh, en) for code, zh, en in RISK_BANDS}
    if kind == "size":
        names = {code: (zh, en) for code, _, zh, en in SIZE_BANDS}
        return {**names, "unknown": ("未知", "unknown")}
    loaders = {
        "district": codelists.districts,
        "section": codelists.industry_sections,
        "accident_type": codelists.accident_types,
        "severity": codelists.severities,
        "hazard_category": codelists.hazard_categories,
        "hazard_level": codelists.hazard_levels,
    }
    frame = loaders[kind]()
    return {
        str(code): (str(zh), str(en))
        for code, zh, en in zip(frame["code"], frame["name_zh"], frame["name_en"], strict=True)
    }


def choose_language(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Return the page language: ``?lang=``, then the language cookie, then ``Accept-Language``."""
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    return preferred_language(accept_language)
