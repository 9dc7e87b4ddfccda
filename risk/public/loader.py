"""Fetch the public files and feed them to the adapters: the ``public download`` command's work."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from risk.public.download import (
    DownloadedFile,
    assemble_msha_panel,
    download_sources,
    read_manifest,
)
from risk.public.msha import read_msha_panel
from risk.public.osha import read_ita_summaries, read_severe_injury_reports
from risk.public.report import AdapterReport
from risk.tables import CanonicalTables

logger = logging.getLogger(__name__)

SUMMARY_FILE = "public_data_summary.json"


@dataclass
class PublicData:
    """Result of one fetch: verified files, canonical tables by source and one merged report."""

    files: list[DownloadedFile]
    panel_dir: Path | None
    tables: dict[str, CanonicalTables] = field(default_factory=dict)
    report: AdapterReport = field(default_factory=lambda: AdapterReport(source="public data"))

    def summary(self) -> dict[str, object]:
        """Return the downloads, table sizes and adapter counts as plain data for JSON."""
        return {
            "files": [
                {
                    "name": item.source.name,
                    "url": item.source.url,
                    "path": str(item.path),
                    "size_bytes": item.size_bytes,
                    "sha256": item.sha256,
                }
                for item in self.files
            ],
            "msha_panel_dir": None if self.panel_dir is None else str(self.panel_dir),
            "tables": {name: tables.row_counts() for name, tables in self.tables.items()},
            "adapters": self.report.summary(),
        }


def fetch_public_data(
    out_dir: Path,
    manifest: Path | None = None,
    only: list[str] | None = None,
    client: httpx.Client | None = None,
) -> PublicData:
    """Download, verify and unpack the public files into ``out_dir``, then adapt each one.

    ``only`` keeps the manifest rows with these names. The MSHA files are
    assembled into ``out_dir / msha_panel`` (the folder ``public msha --data``
    reads), OSHA files are adapted on their own, and a summary JSON is
    written to ``out_dir / public_data_summary.json``.
    """
    sources = read_manifest(manifest)
    if only:
        sources = [source for source in sources if source.name in set(only)]
    files = download_sources(sources, out_dir, client=client)
    panel_dir, conversions = assemble_msha_panel(files, out_dir)
    result = PublicData(files=files, panel_dir=panel_dir)
    for conversion in conversions:
        result.report.merge(conversion)

    if panel_dir is not None:
        panel = read_msha_panel(panel_dir)
        result.tables["msha"] = panel.tables
        result.report.merge(panel.report)
    for item in files:
        if item.source.format == "osha_severe_injury":
            tables, report = read_severe_injury_reports(item.path)
        elif item.source.format == "osha_ita_300a":
            tables, report = read_ita_summaries(item.path)
        else:
            continue
        result.tables[item.source.name] = tables
        result.report.merge(report)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / SUMMARY_FILE).write_text(
        json.dumps(result.summary(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    logger.info("fetched %d public files into %s", len(files), out_dir)
    return result
