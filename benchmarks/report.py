"""Write one benchmark's section of ``docs/benchmarks.md``, keeping every other section."""

from __future__ import annotations

from pathlib import Path

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
