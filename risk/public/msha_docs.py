"""Write ``docs/real-data.md`` and ``docs/real-data.zh-CN.md`` from a ``public msha`` report JSON.

Every number on the two pages comes from the report, so rerunning
``injury-risk public msha`` and then ``injury-risk public report`` brings the
pages up to date. The fixed text (what the data is, how folds are built, the
limits) is in :mod:`risk.public.msha_docs_text`, in both languages.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

from risk.public.msha_docs_text import TEXT
from risk.public.msha_figures import FIGURES, IMAGE_DIR, draw_figures

logger = logging.getLogger(__name__)

PAGES = {"en": "real-data.md", "zh": "real-data.zh-CN.md"}
MODEL = "xgboost"
RAW_RATE_MODEL = "xgboost_rate"
ALL_METRICS = (
    "capture_top_1pct",
    "capture_top_5pct",
    "capture_top_10pct",
    "capture_top_70",
    "capture_top_500",
    "rate_precision_top_10pct",
    "rate_spearman",
    "roc_auc",
    "pr_auc",
    "brier",
    "calibration_slope",
    "calibration_intercept",
    "ece",
    "poisson_deviance",
)


def _number(value: float | None, digits: int = 3) -> str:
    return (
        "–"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.{digits}f}"
    )


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def _data_section(report: dict[str, Any], text: dict[str, str]) -> list[str]:
    source = report["source"]
    adapter = source["adapter"]
    lines = [f"## {text['data_title']}", "", text["data_intro"], ""]
    lines += _table(
        [text["item"], text["value"]],
        [
            [text["quarters"], f"{source['first_quarter']} – {source['last_quarter']}"],
            [text["mines"], f"{source['mines']:,}"],
            [text["states"], str(source["states"])],
            [text["mine_quarters"], f"{source['mine_quarters']:,}"],
            [text["hours"], f"{source['hours_worked']:,.0f}"],
            [text["incidents"], f"{source['incidents']:,}"],
            [
                text["findings"],
                f"{source['hazard_findings']:,}"
                f" ({source['major_hazard_findings']:,} {text['major']})",
            ],
            [text["violations_known"], _number(source["violations_known_share"], 2)],
        ],
    )
    lines += [text["adapter_intro"], ""]
    rows = [
        [code, f"{counts['rows']:,}", f"{counts['units']:,.0f}", text.get(f"reason_{code}", code)]
        for code, counts in adapter["rejected_by_reason"].items()
    ]
    lines += _table([text["reason"], text["rows"], text["units"], text["meaning"]], rows)
    lines += [text["violations_note"], "", text["mapping_note"], ""]
    return lines


def _folds_section(report: dict[str, Any], text: dict[str, str]) -> list[str]:
    lines = [f"## {text['folds_title']}", "", text["folds_intro"], ""]
    rows = [
        [
            str(fold["test_year"]),
            fold["test_start"],
            fold["test_end"],
            f"{fold['train_as_of_first']} – {fold['train_as_of_last']}",
            fold["train_outcome_end"],
            f"{fold['n_train_rows']:,}",
            str(fold["n_test_rows"]),
            str(fold["rate_test_rows"]),
            f"{fold['test_injuries']:,}",
        ]
        for fold in report["folds"]
    ]
    header = [
        text["test_year"],
        "test_start",
        "test_end",
        text["train_as_of"],
        text["train_outcome_end"],
        text["train_rows"],
        text["test_mines"],
        text["rate_mines"],
        text["test_injuries"],
    ]
    return lines + _table(header, rows)


def _summary_section(report: dict[str, Any], text: dict[str, str]) -> list[str]:
    metrics = report["headline_metrics"]
    lines = [f"## {text['results_title']}", "", text["results_intro"], ""]
    rows = [
        [name, *(_number(report["summary"][name].get(metric)) for metric in metrics)]
        for name in report["model_names"]
    ]
    lines += _table([text["model"], *metrics], rows)
    lines += [text["comparison_intro"], ""]
    rows = []
    for baseline, by_metric in report["comparison"].items():
        for metric in metrics:
            item = by_metric[metric]
            rows.append(
                [
                    baseline,
                    metric,
                    _number(item["mean_difference"]),
                    f"[{_number(item['ci_low'])}, {_number(item['ci_high'])}]",
                    f"{item['folds_won']} / {item['folds_lost']} / {item['folds']}",
                ]
            )
    lines += _table(
        [
            text["baseline"],
            text["metric"],
            text["mean_difference"],
            text["interval"],
            text["won_lost"],
        ],
        rows,
    )
    return lines


def _fold_by_fold_section(report: dict[str, Any], text: dict[str, str]) -> list[str]:
    lines = [f"## {text['fold_by_fold_title']}", "", text["fold_by_fold_intro"], ""]
    years = [str(fold["test_year"]) for fold in report["folds"]]
    for metric in report["headline_metrics"]:
        lines += [f"### {metric}", ""]
        rows = [
            [name, *(_number(fold["models"][name].get(metric)) for fold in report["folds"])]
            for name in report["model_names"]
        ]
        lines += _table([text["model"], *years], rows)
    lines += [f"![{text['folds_figure']}]({IMAGE_DIR}/{FIGURES['folds']})", ""]
    return lines


def _figures_section(text: dict[str, str]) -> list[str]:
    lines = [f"## {text['figures_title']}", ""]
    for key in ("capture_count", "capture_rate", "calibration"):
        lines += [text[f"figure_{key}"], "", f"![{key}]({IMAGE_DIR}/{FIGURES[key]})", ""]
    return lines


def _shap_section(report: dict[str, Any], text: dict[str, str], language: str) -> list[str]:
    labels = {item["name"]: item[f"label_{language}"] for item in report["features"]}
    lines = [f"## {text['shap_title']}", "", text["shap_intro"], ""]
    rows = [
        [
            str(position),
            f"`{row['feature_name']}`",
            labels.get(row["feature_name"], ""),
            _number(row["mean_abs_contribution"]),
        ]
        for position, row in enumerate(report["shap"][:15], start=1)
    ]
    lines += _table(["#", text["feature"], text["label"], text["mean_abs_shap"]], rows)
    names = [row["feature_name"] for row in report["shap"]]
    violation = next((name for name in names if "violation" in name), names[-1])
    reading = text["shap_reading"].format(
        first=names[0],
        second=names[1],
        violation=violation,
        violation_rank=names.index(violation) + 1,
        features=len(names),
    )
    return lines + [f"![shap]({IMAGE_DIR}/{FIGURES['shap']})", "", reading, ""]


def _losses(report: dict[str, Any]) -> list[dict[str, Any]]:
    losses = []
    for fold in report["folds"]:
        model_metrics = fold["models"][MODEL]
        for baseline, metrics in fold["models"].items():
            if baseline == MODEL:
                continue
            for metric in report["headline_metrics"]:
                ours, theirs = model_metrics.get(metric), metrics.get(metric)
                if ours is not None and theirs is not None and theirs > ours:
                    scale = "rate" if metric.startswith("rate") else "count"
                    overlap = fold["top_10pct_overlap"].get(baseline, {}).get(scale)
                    losses.append(
                        {
                            "fold": fold,
                            "baseline": baseline,
                            "metric": metric,
                            "margin": theirs - ours,
                            "overlap": overlap,
                        }
                    )
    return losses


def _closing_section(report: dict[str, Any], text: dict[str, str]) -> list[str]:
    lines = [f"## {text['closing_title']}", ""]
    for metric in report["headline_metrics"]:
        baselines = {
            name: by_metric[metric]
            for name, by_metric in report["comparison"].items()
            if name != RAW_RATE_MODEL and by_metric[metric]["mean_difference"] is not None
        }
        if not baselines:
            continue
        name, item = min(baselines.items(), key=lambda pair: pair[1]["mean_difference"])
        lines.append(
            text["closest"].format(
                metric=metric,
                baseline=name,
                diff=_number(item["mean_difference"]),
                low=_number(item["ci_low"]),
                high=_number(item["ci_high"]),
                won=item["folds_won"],
                folds=item["folds"],
            )
        )
    lines += ["", text["losses_intro"], ""]
    rows = []
    for loss in _losses(report):
        fold = loss["fold"]
        if loss["metric"] == "capture_top_10pct":
            size = text["margin_injuries"].format(count=loss["margin"] * fold["test_injuries"])
        elif loss["metric"] == "rate_precision_top_10pct":
            size = text["margin_mines"].format(
                count=loss["margin"] * math.ceil(0.1 * fold["rate_test_rows"])
            )
        else:
            size = ""
        overlap = "–" if loss["overlap"] is None else f"{loss['overlap']:.2f}"
        rows.append(
            [
                str(fold["test_year"]),
                loss["metric"],
                loss["baseline"],
                _number(loss["margin"]),
                size,
                overlap,
            ]
        )
    if rows:
        lines += _table(
            [
                text["test_year"],
                text["metric"],
                text["baseline"],
                text["margin"],
                text["margin_size"],
                text["overlap"],
            ],
            rows,
        )
    else:
        lines += [text["no_losses"], ""]
    return lines + [
        _losses_explained(report, text),
        "",
        f"## {text['limits_title']}",
        "",
        text["limits"],
        "",
    ]


def _losses_explained(report: dict[str, Any], text: dict[str, str]) -> str:
    count_k = [math.ceil(0.1 * fold["n_test_rows"]) for fold in report["folds"]]
    rate_k = [math.ceil(0.1 * fold["rate_test_rows"]) for fold in report["folds"]]
    spearman = [loss["margin"] for loss in _losses(report) if loss["metric"] == "rate_spearman"]
    return text["losses_explained"].format(
        count_k_min=min(count_k),
        count_k_max=max(count_k),
        rate_k_min=min(rate_k),
        rate_k_max=max(rate_k),
        one_mine=f"{1 / max(rate_k):.3f}–{1 / min(rate_k):.3f}",
        spearman_margin=_number(max(spearman)) if spearman else "–",
    )


def _all_metrics_section(report: dict[str, Any], text: dict[str, str]) -> list[str]:
    lines = [f"## {text['all_metrics_title']}", "", text["all_metrics_intro"], ""]
    for fold in report["folds"]:
        lines += [f"### {fold['test_year']}", ""]
        rows = [
            [name, *(_number(fold["models"][name].get(metric)) for metric in ALL_METRICS)]
            for name in report["model_names"]
        ]
        lines += _table([text["model"], *ALL_METRICS], rows)
    return lines


def render_page(report: dict[str, Any], language: str) -> str:
    """Return the page in ``language`` ("en" or "zh") as Markdown."""
    text = TEXT[language]
    lines = [
        f"# {text['title']}",
        "",
        text["generated"].format(runtime=report.get("runtime_seconds")),
        "",
    ]
    lines += _data_section(report, text)
    lines += _folds_section(report, text)
    lines += _summary_section(report, text)
    lines += _fold_by_fold_section(report, text)
    lines += _figures_section(text)
    lines += _shap_section(report, text, language)
    lines += _closing_section(report, text)
    lines += _all_metrics_section(report, text)
    return "\n".join(lines).rstrip() + "\n"


def write_report_pages(report: dict[str, Any], docs_dir: Path) -> list[Path]:
    """Write both pages and their figures into ``docs_dir``; return the page paths."""
    draw_figures(report, docs_dir)
    paths = []
    for language, name in PAGES.items():
        path = docs_dir / name
        path.write_text(render_page(report, language), encoding="utf-8")
        paths.append(path)
    logger.info("wrote %s", ", ".join(str(path) for path in paths))
    return paths
