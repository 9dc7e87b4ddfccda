"""Record a benchmark's results: the raw JSON and its section of ``docs/benchmarks.md``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"


def write_doc_section(heading: str, section: str, doc: Path = DOC) -> None:
    """Replace the section that starts with ``## heading`` by ``section``, or append it.

    ``section`` includes its own heading line. Sections are separated by one
    blank line whatever ``section`` ends with.
    """
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    body = section.strip("\n") + "\n"
    start = text.find(f"## {heading}\n")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + body
    else:
        end = text.find("\n## ", start + 1)
        rest = "" if end < 0 else "\n" + text[end + 1 :]
        text = text[:start] + body + rest
    doc.parent.mkdir(parents=True, exist_ok=True)
    doc.write_text(text, encoding="utf-8")


def publish(
    result: dict[str, Any],
    results_file: Path,
    heading: str,
    section: str,
    *,
    record: bool,
    doc: Path = DOC,
) -> None:
    """Print ``section``, and with ``record`` save ``result`` and rewrite the doc section.

    Quick runs pass ``record=False``, so they never replace the figures of a full run.
    """
    print(section)  # noqa: T201
    if not record:
        return
    results_file.parent.mkdir(parents=True, exist_ok=True)
    results_file.write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    write_doc_section(heading, section, doc)
