"""The helpers that record a benchmark's results file and its section of docs/benchmarks.md."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.report import publish, write_doc_section


def test_write_doc_section_replaces_in_place(tmp_path: Path) -> None:
    """A rewritten section keeps its place and the others stay as they were."""
    doc = tmp_path / "benchmarks.md"

    write_doc_section("A", "## A\n\nold\n", doc)
    write_doc_section("B", "## B\n\nkept", doc)
    write_doc_section("A", "## A\n\nnew\n\n\n", doc)

    assert doc.read_text(encoding="utf-8") == "# Benchmarks\n\n## A\n\nnew\n\n## B\n\nkept\n"


def test_write_doc_section_prefix_heading_distinct(tmp_path: Path) -> None:
    """A heading that starts another heading's name does not match it."""
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## API docs\n\nother\n", encoding="utf-8")

    write_doc_section("API", "## API\n\nfigures\n", doc)

    assert doc.read_text(encoding="utf-8") == (
        "# Benchmarks\n\n## API docs\n\nother\n\n## API\n\nfigures\n"
    )


def test_publish_without_record_writes_nothing(tmp_path: Path) -> None:
    """A quick run prints its section but leaves the results file and the doc alone."""
    results = tmp_path / "results" / "api.json"
    doc = tmp_path / "benchmarks.md"

    publish({"ratio": 0.3}, results, "API", "## API\n\nquick\n", record=False, doc=doc)

    assert not results.exists()
    assert not doc.exists()


def test_publish_with_record_writes_both(tmp_path: Path) -> None:
    """A full run saves its results and rewrites its doc section."""
    results = tmp_path / "results" / "api.json"
    doc = tmp_path / "benchmarks.md"

    publish({"ratio": 0.3}, results, "API", "## API\n\nfull\n", record=True, doc=doc)

    assert json.loads(results.read_text(encoding="utf-8")) == {"ratio": 0.3}
    assert doc.read_text(encoding="utf-8") == "# Benchmarks\n\n## API\n\nfull\n"
