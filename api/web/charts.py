"""ECharts options of the page charts, built on the server as plain JSON.

A page embeds each option in ``<script type="application/json">`` next to
the chart's element, and ``static/app.js`` hands it to ``echarts.setOption``.
No option contains a JavaScript function, so the page needs no inline script.
"""

from __future__ import annotations

from typing import Any

from api.schemas import ExplanationPublic
from api.web.i18n import Translator
from api.web.queries import GroupCounts
from risk.scoring import RISK_BAND_CODES
from risk.store.scores import PastScore

# Colours of China's four-colour safety risk levels, as on the page's band badges.
BAND_COLOURS = {"red": "#d7191c", "orange": "#f28c28", "yellow": "#f2c400", "blue": "#2c7bb6"}
_RAISES, _LOWERS = "#c0392b", "#2c7bb6"
SEVERITY_COLOURS = ("#f2c400", "#f28c28", "#d7191c")
_TOP_CONTRIBUTIONS = 12


def _grid(left: int = 8) -> dict[str, Any]:
    return {"left": f"{left}%", "right": "6%", "top": 40, "bottom": 30, "containLabel": True}


def contributions(explanation: ExplanationPublic, t: Translator) -> dict[str, Any]:
    """Return a bar chart of the largest SHAP contributions, largest at the top."""
    top = explanation.contributions[:_TOP_CONTRIBUTIONS][::-1]
    return {
        "animation": False,
        "title": {"text": t("chart.contributions"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "grid": _grid(2),
        "xAxis": {
            "type": "value",
            "name": t("chart.log_odds"),
            "nameLocation": "middle",
            "nameGap": 22,
        },
        "yAxis": {
            "type": "category",
            "data": [item.label for item in top],
            "axisLabel": {"width": 150, "overflow": "truncate"},
        },
        "series": [
            {
                "type": "bar",
                "data": [
                    {
                        "value": round(item.contribution, 4),
                        "itemStyle": {"color": _RAISES if item.contribution > 0 else _LOWERS},
                    }
                    for item in top
                ],
            }
        ],
    }


def score_trend(past: list[PastScore], t: Translator) -> dict[str, Any] | None:
    """Return a line chart of the employer's risk score over past scorings, or None without any."""
    points = sorted(past, key=lambda row: (row.as_of, row.model_version))
    if not points:
        return None
    return {
        "animation": False,
        "title": {"text": t("chart.trend"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis"},
        "grid": _grid(),
        "xAxis": {"type": "category", "data": [row.as_of.isoformat() for row in points]},
        "yAxis": {"type": "value", "name": t("chart.risk_score_percent"), "min": 0},
        "series": [
            {
                "type": "line",
                "name": t("chart.risk_score_percent"),
                "symbolSize": 8,
                "data": [round(row.risk_score * 100, 2) for row in points],
            }
        ],
    }


def incidents_by_type(table: list[dict[str, Any]] | None, t: Translator) -> dict[str, Any] | None:
    """Return a stacked bar chart of incidents per accident type and severity, or None if none."""
    if not table:
        return None
    severities = [t.code("severity", code) for code in ("minor", "serious", "fatal")]
    return {
        "animation": False,
        "title": {"text": t("chart.incidents"), "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 20, "data": severities},
        "grid": {**_grid(), "top": 60},
        "xAxis": {
            "type": "category",
            "data": [row["label"] for row in table],
            "axisLabel": {"interval": 0, "rotate": 30},
        },
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "type": "bar",
                "stack": "severity",
                "name": name,
                "itemStyle": {"color": colour},
                "data": [row["counts"][index] for row in table],
            }
            for index, (name, colour) in enumerate(zip(severities, SEVERITY_COLOURS, strict=True))
        ],
    }


def band_counts(
    groups: list[GroupCounts], labels: list[str], title: str, t: Translator
) -> dict[str, Any]:
    """Return a stacked bar chart of band counts per group (district or industry section)."""
    names = [t.code("band", code) for code in RISK_BAND_CODES]
    return {
        "animation": False,
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "axisPointer": {"type": "shadow"}},
        "legend": {"top": 20, "data": names},
        "grid": {**_grid(), "top": 60},
        "xAxis": {"type": "category", "data": labels, "axisLabel": {"interval": 0, "rotate": 30}},
        "yAxis": {"type": "value", "minInterval": 1},
        "series": [
            {
                "type": "bar",
                "stack": "band",
                "name": name,
                "itemStyle": {"color": BAND_COLOURS[code]},
                "data": [group.band_counts[code] for group in groups],
            }
            for code, name in zip(RISK_BAND_CODES, names, strict=True)
        ],
    }
