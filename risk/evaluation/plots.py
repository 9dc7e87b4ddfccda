"""Charts for the evaluation notebooks, titled and labelled in Chinese with English terms.

Every function draws on a new figure (or on ``ax`` when given) and returns
the figure, so a notebook displays it and a script can save it. The
calibration bins and capture shares follow :mod:`risk.model.plots` and
:mod:`risk.model.metrics`, which draw the English versions logged with each
MLflow run. Chinese text needs a CJK font: call :func:`use_cjk_font` first.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from risk.evaluation.drift import PSI_LEVELS  # noqa: E402

logger = logging.getLogger(__name__)

# Font families with Simplified Chinese glyphs, preferred first. Debian's
# fonts-noto-cjk package installs the Noto ones.
CJK_FONT_FAMILIES: tuple[str, ...] = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)
_RATE_RATIO_TICKS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0)
ROLE_COLOURS: dict[str, str] = {
    "placebo": "#7f7f7f",
    "selection": "#ff7f0e",
    "training_month": "#9467bd",
    "effect": "#1f77b4",
    "after_effect": "#2ca02c",
}
ROLE_LABELS: dict[str, str] = {
    "placebo": "安慰剂期 placebo",
    "selection": "选择期 selection window",
    "training_month": "培训当月 training month",
    "effect": "效应期 effect window",
    "after_effect": "效应期后 after the effect window",
}


# Parts of the file names of CJK fonts, for fonts installed after matplotlib built its cache.
_CJK_FILE_HINTS: tuple[str, ...] = ("cjk", "wqy", "sourcehan", "simhei", "msyh", "pingfang")


def _find_cjk_family() -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONT_FAMILIES if name in installed), None)


def use_cjk_font() -> str | None:
    """Make matplotlib draw Chinese text with the first installed CJK font; return its name.

    Matplotlib caches its font list, so a font installed later (for example
    by CI) is added from the system font folders here. Returns None, logging
    a warning, when no CJK font is installed: the charts still render, with
    empty boxes in place of Chinese characters.
    """
    chosen = _find_cjk_family()
    if chosen is None:
        for path in font_manager.findSystemFonts():
            if any(hint in Path(path).name.lower() for hint in _CJK_FILE_HINTS):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError) as exc:
                    logger.debug("cannot load font %s: %s", path, exc)
        chosen = _find_cjk_family()
    if chosen is None:
        logger.warning("no CJK font found (install fonts-noto-cjk); Chinese labels will not render")
        return None
    fallback = [name for name in matplotlib.rcParams["font.sans-serif"] if name != chosen]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["font.sans-serif"] = [chosen, *fallback]
    # The CJK fonts lack the Unicode minus sign, so negative ticks use "-".
    matplotlib.rcParams["axes.unicode_minus"] = False
    return chosen


def _rotate_ticks(axes: Axes) -> None:
    # Anchored at their right end, rotated labels end under their bar.
    for label in axes.get_xticklabels():
        label.set_rotation(45)
        label.set_horizontalalignment("right")
        label.set_rotation_mode("anchor")


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax  # type: ignore[return-value]
    figure, axes = plt.subplots(figsize=size)
    return figure, axes


def calibration_bins(
    outcome: npt.ArrayLike, risk_score: npt.ArrayLike, n_bins: int = 10
) -> pd.DataFrame:
    """Return mean predicted and observed frequency in equal-frequency bins of ``risk_score``."""
    y = np.asarray(outcome, dtype=np.float64)
    p = np.asarray(risk_score, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    bins = [rows for rows in np.array_split(order, min(n_bins, max(y.size, 1))) if rows.size]
    return pd.DataFrame(
        {
            "predicted": [float(p[rows].mean()) for rows in bins],
            "observed": [float(y[rows].mean()) for rows in bins],
            "rows": [int(rows.size) for rows in bins],
        }
    )


def plot_calibration(
    outcome: npt.ArrayLike,
    scores: Mapping[str, npt.ArrayLike],
    *,
    n_bins: int = 10,
    ax: Axes | None = None,
    title: str = "校准曲线 Calibration",
) -> Figure:
    """Draw observed injury frequency against mean ``risk_score`` per bin, one line per model."""
    figure, axes = _axes(ax, (5.5, 5.0))
    limit = 0.01
    for name, risk_score in scores.items():
        bins = calibration_bins(outcome, risk_score, n_bins)
        axes.plot(bins["predicted"], bins["observed"], marker="o", label=name)
        limit = max(limit, float(bins[["predicted", "observed"]].to_numpy().max()))
    limit *= 1.05
    axes.plot([0, limit], [0, limit], linestyle="--", color="grey", label="完全校准 perfect")
    axes.set_xlabel("分箱平均风险评分 mean risk_score in bin")
    axes.set_ylabel("实际发生工伤的单位比例 observed share with an injury")
    axes.set_title(f"{title}（{n_bins} 个等频分箱 equal-frequency bins）")
    axes.legend()
    return figure


def capture_curve(injury_count: npt.ArrayLike, ranking_score: npt.ArrayLike) -> pd.DataFrame:
    """Return the share of employers (highest ranked first) and the share of injuries they had."""
    counts = np.asarray(injury_count, dtype=np.float64)
    order = np.argsort(-np.asarray(ranking_score, dtype=np.float64), kind="stable")
    total = counts.sum()
    captured = np.cumsum(counts[order]) / total if total > 0 else np.zeros(counts.size)
    share = np.arange(1, counts.size + 1) / max(counts.size, 1)
    return pd.DataFrame({"employer_share": np.r_[0.0, share], "injury_share": np.r_[0.0, captured]})


def plot_capture_curves(
    injury_count: npt.ArrayLike,
    scores: Mapping[str, npt.ArrayLike],
    *,
    ax: Axes | None = None,
    max_share: float = 1.0,
    title: str = "捕获曲线 Capture curve",
) -> Figure:
    """Draw the capture curve of each model's ranking, with random order for reference."""
    figure, axes = _axes(ax, (6.0, 5.0))
    for name, ranking in scores.items():
        curve = capture_curve(injury_count, ranking)
        axes.plot(curve["employer_share"], curve["injury_share"], label=name)
    axes.plot([0, 1], [0, 1], linestyle="--", color="grey", label="随机排序 random order")
    axes.axvline(0.1, color="lightgrey", linewidth=0.8)
    axes.set_xlim(0, max_share)
    axes.set_xlabel("按风险从高到低覆盖的单位比例 share of employers, highest ranked first")
    axes.set_ylabel("覆盖的工伤比例 share of injuries captured")
    axes.set_title(title)
    axes.legend(loc="lower right")
    return figure


def plot_slice_metric(
    table: pd.DataFrame,
    metric: str,
    *,
    slice_label: str,
    ax: Axes | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Draw ``metric`` per slice value (rows) and model (columns) of a table as grouped bars."""
    figure, axes = _axes(ax, (max(6.0, 0.6 * len(table) + 3), 4.5))
    shown = table.rename(index=dict(labels or {}))
    shown.plot.bar(ax=axes, width=0.8)
    _rotate_ticks(axes)
    axes.set_xlabel(slice_label)
    axes.set_ylabel(metric)
    axes.set_title(f"{metric}：按{slice_label}分组 by slice")
    axes.legend(fontsize="small")
    return figure


def plot_top_list_coverage(
    coverage: pd.DataFrame,
    *,
    slice_label: str,
    ax: Axes | None = None,
    labels: Mapping[str, str] | None = None,
) -> Figure:
    """Draw, per slice value, the share of its injuries that the top list captured.

    ``coverage`` is a :func:`risk.evaluation.compare.top_list_coverage` table;
    the dashed line is the share captured over all employers.
    """
    shown = coverage.rename(index=dict(labels or {}))
    figure, axes = _axes(ax, (max(6.0, 0.5 * len(shown) + 3), 4.5))
    axes.bar(shown.index.astype(str), shown["injuries_captured"].fillna(0.0), color="#1f77b4")
    overall = float((coverage["injuries_captured"].fillna(0) * coverage["injuries"]).sum()) / max(
        float(coverage["injuries"].sum()), 1.0
    )
    axes.axhline(
        overall, color="red", linestyle="--", label=f"全部单位 all employers {overall:.0%}"
    )
    _rotate_ticks(axes)
    axes.set_xlabel(slice_label)
    axes.set_ylabel("高风险名单覆盖的工伤比例 injuries captured by the top list")
    axes.set_title(f"高风险名单按{slice_label}的覆盖 Top-list coverage by slice")
    axes.legend()
    return figure


def plot_event_study(
    event_study: pd.DataFrame,
    *,
    true_rate_ratio: float | None = None,
    true_months: int | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the event-study rate ratios with their intervals, coloured by the role of each bin."""
    figure, axes = _axes(ax, (9.0, 4.8))
    centres = (event_study["first"] + event_study["last"]) / 2.0
    for role, rows in event_study.groupby("role", sort=False):
        position = centres[rows.index]
        errors = np.vstack(
            [rows["rate_ratio"] - rows["ci_low"], rows["ci_high"] - rows["rate_ratio"]]
        )
        axes.errorbar(
            position,
            rows["rate_ratio"],
            yerr=errors,
            fmt="o",
            capsize=3,
            color=ROLE_COLOURS.get(str(role)),
            label=ROLE_LABELS.get(str(role), str(role)),
        )

    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.axvline(0.0, color="lightgrey", linestyle=":")
    if true_rate_ratio is not None and true_months is not None:
        axes.hlines(
            true_rate_ratio,
            0.5,
            true_months + 0.5,
            colors="red",
            linestyles="--",
            label=f"真实效应 true effect {true_rate_ratio:g}",
        )

    axes.set_yscale("log")
    # Plain rate ratios read better than the powers of ten of a log axis.
    low, high = axes.get_ylim()
    ticks = [tick for tick in _RATE_RATIO_TICKS if low <= tick <= high]
    axes.minorticks_off()
    axes.set_yticks(ticks, [f"{tick:g}" for tick in ticks])
    axes.set_xlabel("相对培训月份的月数 months relative to the training month")
    axes.set_ylabel("工伤率比 rate ratio（对数刻度 log scale）")
    axes.set_title("事件研究 Event study：培训前后的工伤率比及 95% 置信区间")
    # Below the axes, so that the legend never hides a bin.
    axes.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
    return figure


def plot_psi(
    drift: pd.DataFrame, *, top: int = 15, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """Draw the PSI of the ``top`` features that moved most, with the stability thresholds."""
    shown = drift.head(top).iloc[::-1]
    figure, axes = _axes(ax, (7.0, 0.35 * len(shown) + 1.5))
    axes.barh(shown["feature"], shown["psi"], color="#1f77b4")
    for (upper, _, _), (_, _, label) in zip(PSI_LEVELS[:-1], PSI_LEVELS[1:], strict=True):
        axes.axvline(
            upper, color="grey", linestyle="--", linewidth=0.8, label=f"{upper:g}：{label}起点"
        )
    axes.set_xlabel("群体稳定性指数 PSI")
    axes.set_ylabel("特征 feature")
    axes.set_title(title or f"特征漂移 Feature drift：PSI 最大的 {len(shown)} 个特征")
    axes.legend(loc="lower right", fontsize="small")
    return figure


def plot_score_distributions(
    scores: Mapping[str, npt.ArrayLike], *, bins: int = 40, ax: Axes | None = None
) -> Figure:
    """Draw each scoring's distribution of ``risk_score`` as a step histogram on a log x axis."""
    figure, axes = _axes(ax, (7.0, 4.5))
    values = {name: np.asarray(score, dtype=np.float64) for name, score in scores.items()}
    positive = np.concatenate([v[v > 0] for v in values.values()] or [np.array([1e-4])])
    edges = np.geomspace(
        max(float(positive.min()), 1e-6), max(float(positive.max()), 1e-5), bins + 1
    )
    for name, value in values.items():
        axes.hist(
            np.clip(value, edges[0], edges[-1]),
            bins=edges,
            histtype="step",
            density=False,
            weights=np.full(value.size, 1.0 / max(value.size, 1)),
            label=name,
        )
    axes.set_xscale("log")
    axes.set_xlabel("风险评分 risk_score（对数刻度 log scale）")
    axes.set_ylabel("单位比例 share of employers")
    axes.set_title("风险评分分布 Distribution of risk_score")
    axes.legend()
    return figure


def plot_shap_summary(
    contributions: npt.ArrayLike,
    features: pd.DataFrame,
    *,
    max_display: int = 20,
    title: str = "SHAP 全局汇总 global summary（对数几率 log-odds）",
) -> Figure:
    """Draw the SHAP beeswarm of precomputed contributions (rows as in ``features``)."""
    import shap

    plt.figure()
    # An explicit generator keeps the beeswarm's jitter reproducible. Without one, shap 0.51
    # warns once numpy's global RNG has been seeded (hypothesis seeds it during tests).
    shap.summary_plot(
        np.asarray(contributions),
        features,
        show=False,
        max_display=max_display,
        rng=np.random.default_rng(0),
    )
    figure = plt.gcf()
    axes = figure.axes[0]
    axes.set_xlabel("SHAP 贡献值 contribution（对数几率 log-odds）")
    axes.set_ylabel("特征 feature")
    figure.suptitle(title)
    return figure


def close(figure: Any) -> None:
    """Close ``figure`` so that a long notebook does not keep every chart in memory."""
    plt.close(figure)
