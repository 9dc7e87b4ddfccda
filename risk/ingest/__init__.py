"""Ingest of agency exports: read, recognise, drop personal data, validate and load.

``read_export`` parses one file without a database; ``ingest_files`` checks a
whole run across files and against the store, then loads it all or nothing.
The accepted headers and value forms are documented in ``docs/ingest.md``.
"""

from risk.ingest.exports import read_export
from risk.ingest.headers import HEADER_MAP
from risk.ingest.pipeline import IngestResult, ingest_files
from risk.ingest.report import write_error_report, write_rejected_rows

__all__ = [
    "HEADER_MAP",
    "IngestResult",
    "ingest_files",
    "read_export",
    "write_error_report",
    "write_rejected_rows",
]
