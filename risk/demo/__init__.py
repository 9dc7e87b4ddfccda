"""Synthetic demo data: Hangzhou employers, injuries, hazards and training, with ground truth.

``generate_demo_data`` writes agency-style exports under ``<out>/exports/`` and
the ground truth under ``<out>/truth/``. ``generate_demo_tables`` returns the
clean canonical frames in memory. ``docs/demo-data.md`` describes the model.
"""

from risk.demo.generate import (
    DemoDataSummary,
    DemoTables,
    default_end_year,
    generate_demo_data,
    generate_demo_tables,
)
from risk.demo.parameters import DemoParameters
from risk.demo.truth import read_faults, read_monthly_rates

__all__ = [
    "DemoDataSummary",
    "DemoParameters",
    "DemoTables",
    "default_end_year",
    "generate_demo_data",
    "generate_demo_tables",
    "read_faults",
    "read_monthly_rates",
]
