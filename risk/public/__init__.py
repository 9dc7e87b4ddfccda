"""Public US injury data: adapters to the canonical tables, the downloader, and the MSHA pipeline.

* :func:`read_msha_panel` adapts the MSHA underground-coal mine-quarter panel;
* :func:`read_severe_injury_reports` and :func:`read_ita_summaries` adapt OSHA files;
* :func:`fetch_public_data` downloads, verifies and unpacks the official files
  and feeds them to the adapters.

Every adapter returns an :class:`AdapterReport` that lists each source row it
could not place, with the reason, as ingest reports a bad row.
"""

from risk.public.loader import PublicData, fetch_public_data
from risk.public.msha import MshaPanel, read_msha_panel
from risk.public.osha import read_ita_summaries, read_severe_injury_reports
from risk.public.report import AdapterReport, RejectedRow

__all__ = [
    "AdapterReport",
    "MshaPanel",
    "PublicData",
    "RejectedRow",
    "fetch_public_data",
    "read_ita_summaries",
    "read_msha_panel",
    "read_severe_injury_reports",
]
