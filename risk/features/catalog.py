"""Feature catalogue: every feature's name, family, Chinese and English label, unit and kind.

The catalogue is the single source of feature names and their order. Explanations
turn SHAP contributions into sentences from ``label_zh`` and ``label_en``, so a
label reads as a noun phrase that can follow "because of" / "因为".

Names spell out the window and the unit: ``incident_count_12m`` counts injuries
in the last 12 months. Every ``..._per_100_...`` feature is an annual rate per
100 insured workers: the window's total x 100 / (headcount x window in years).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

from risk import codelists

DEFAULT_WINDOWS_MONTHS: tuple[int, ...] = (3, 12, 36)
# Windows shorter than this give only incident counts and rates. Findings, trainings,
# lost workdays and peer rates are too sparse over a few months to be worth a column.
LONG_WINDOW_MIN_MONTHS = 12
# "Months since" features take this value when nothing happened, and are capped at it.
MONTHS_SINCE_CAP = 120.0
# A finding open for longer than this many days counts as overdue.
OVERDUE_AFTER_DAYS = 90

SEVERITY_SLICES: dict[str, tuple[str, str]] = {
    "minor": ("轻伤", "minor injuries"),
    "serious": ("重伤", "serious injuries"),
    "fatal": ("工亡", "fatal injuries"),
    "serious_fatal": ("重伤及工亡", "serious or fatal injuries"),
}

_RATE_UNIT = "per 100 insured workers per year"
_MONTHS_SINCE_UNIT = f"months, {MONTHS_SINCE_CAP:.0f} when none or longer"


@dataclass(frozen=True)
class FeatureSpec:
    """One feature: its column name, family, labels, unit, kind and window."""

    name: str
    family: str
    label_zh: str
    label_en: str
    unit: str
    kind: str
    window_months: int | None = None


def check_windows(windows_months: tuple[int, ...]) -> tuple[int, ...]:
    """Return ``windows_months`` sorted, or raise ValueError if it is not positive whole months."""
    windows = tuple(windows_months)
    if not windows or any(not isinstance(w, int) or isinstance(w, bool) or w <= 0 for w in windows):
        raise ValueError(
            "windows_months must be a non-empty tuple of positive whole months,"
            f" got {windows_months!r}"
        )
    if len(set(windows)) != len(windows):
        raise ValueError(f"windows_months must not repeat a window, got {windows_months!r}")
    return tuple(sorted(windows))


def long_windows(windows_months: tuple[int, ...]) -> tuple[int, ...]:
    """Return the windows of at least ``LONG_WINDOW_MIN_MONTHS`` months."""
    return tuple(w for w in windows_months if w >= LONG_WINDOW_MIN_MONTHS)


def _numeric(
    name: str, family: str, zh: str, en: str, unit: str, window: int | None = None
) -> FeatureSpec:
    return FeatureSpec(name, family, zh, en, unit, "numeric", window)


def _count_and_rate(prefix: str, family: str, zh: str, en: str, window: int) -> list[FeatureSpec]:
    """Specs of ``<prefix>_count_<w>m`` and ``<prefix>_rate_per_100_<w>m``."""
    return [
        _numeric(
            f"{prefix}_count_{window}m",
            family,
            f"近{window}个月{zh}起数",
            f"{en} in the last {window} months",
            "injuries",
            window,
        ),
        _numeric(
            f"{prefix}_rate_per_100_{window}m",
            family,
            f"近{window}个月每百名参保职工年均{zh}起数",
            f"{en} per 100 insured workers per year, last {window} months",
            _RATE_UNIT,
            window,
        ),
    ]


def _profile_specs() -> list[FeatureSpec]:
    return [
        _numeric(
            "insured_headcount",
            "exposure",
            "上一完整年度参保人数",
            "insured headcount in the last complete year",
            "workers",
        ),
        _numeric(
            "insured_headcount_log_growth_1y",
            "exposure",
            "参保人数较前一年的增长（对数比）",
            "growth of insured headcount over the previous year (log ratio)",
            "log ratio",
        ),
        FeatureSpec(
            "industry_section",
            "industry",
            "行业门类",
            "industry section (GB/T 4754)",
            "code",
            "categorical",
        ),
        FeatureSpec(
            "industry_division",
            "industry",
            "行业大类",
            "industry division (GB/T 4754)",
            "code",
            "categorical",
        ),
        _numeric(
            "industry_risk_class",
            "industry",
            "行业工伤风险类别",
            "work-injury insurance risk class of the industry",
            "class 1-8",
        ),
        FeatureSpec("district_code", "district", "所属区县", "district", "code", "categorical"),
    ]


def _incident_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for window in windows:
        specs += _count_and_rate("incident", "incidents", "工伤", "injuries", window)
    specs.append(
        _numeric(
            "months_since_last_incident",
            "incidents",
            "距上次工伤的月数",
            "months since the last injury",
            _MONTHS_SINCE_UNIT,
        )
    )
    return specs


def _severity_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for window in windows:
        for severity, (zh, en) in SEVERITY_SLICES.items():
            specs += _count_and_rate(f"{severity}_incident", "severity", zh, en, window)
    for window in long_windows(windows):
        specs += [
            _numeric(
                f"lost_workdays_{window}m",
                "severity",
                f"近{window}个月停工留薪天数合计",
                f"lost workdays in the last {window} months",
                "workdays",
                window,
            ),
            _numeric(
                f"lost_workdays_per_100_{window}m",
                "severity",
                f"近{window}个月每百名参保职工年均停工留薪天数",
                f"lost workdays per 100 insured workers per year, last {window} months",
                "workdays " + _RATE_UNIT,
                window,
            ),
            _numeric(
                f"severity_weighted_incident_count_{window}m",
                "severity",
                f"近{window}个月按伤害程度加权的工伤数",
                f"severity-weighted injuries in the last {window} months",
                "weighted injuries",
                window,
            ),
            _numeric(
                f"disability_incident_count_{window}m",
                "severity",
                f"近{window}个月评定伤残等级的工伤起数",
                f"injuries with a disability grade in the last {window} months",
                "injuries",
                window,
            ),
        ]
    return specs


def _accident_type_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    groups = codelists.accident_type_groups()
    for window in windows:
        for row in groups.itertuples(index=False):
            specs += _count_and_rate(
                f"{row.group}_incident",
                "accident_type",
                f"{row.name_zh}类工伤",
                f"injuries ({row.name_en})",
                window,
            )
    return specs


def _commuting_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for window in windows:
        specs += _count_and_rate(
            "commuting_incident", "commuting", "上下班途中工伤", "commuting injuries", window
        )
    return specs


def _hazard_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs = [
        _numeric(
            "open_general_hazard_count",
            "hazards",
            "未整改的一般隐患数",
            "open general hazards",
            "findings",
        ),
        _numeric(
            "open_major_hazard_count",
            "hazards",
            "未整改的重大隐患数",
            "open major hazards",
            "findings",
        ),
        _numeric(
            f"overdue_hazard_count_{OVERDUE_AFTER_DAYS}d",
            "hazards",
            f"发现超过{OVERDUE_AFTER_DAYS}天仍未整改的隐患数",
            f"hazards still open more than {OVERDUE_AFTER_DAYS} days after inspection",
            "findings",
        ),
    ]
    for window in long_windows(windows):
        specs += [
            _numeric(
                f"hazard_finding_count_{window}m",
                "hazards",
                f"近{window}个月发现的隐患数",
                f"hazards found in the last {window} months",
                "findings",
                window,
            ),
            _numeric(
                f"major_hazard_finding_count_{window}m",
                "hazards",
                f"近{window}个月发现的重大隐患数",
                f"major hazards found in the last {window} months",
                "findings",
                window,
            ),
        ]
    longest = max(windows)
    specs += [
        _numeric(
            f"days_to_rectify_mean_{longest}m",
            "hazards",
            f"近{longest}个月已整改隐患的平均整改天数",
            f"mean days to rectify a hazard, rectified in the last {longest} months",
            "days",
            longest,
        ),
        _numeric(
            f"days_to_rectify_median_{longest}m",
            "hazards",
            f"近{longest}个月已整改隐患的整改天数中位数",
            f"median days to rectify a hazard, rectified in the last {longest} months",
            "days",
            longest,
        ),
    ]
    return specs


def _training_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    for window in long_windows(windows):
        specs += [
            _numeric(
                f"training_count_{window}m",
                "training",
                f"近{window}个月接受培训场次",
                f"training sessions received in the last {window} months",
                "sessions",
                window,
            ),
            _numeric(
                f"training_attendees_per_100_{window}m",
                "training",
                f"近{window}个月每百名参保职工年均参训人次",
                f"training attendees per 100 insured workers per year, last {window} months",
                "attendees " + _RATE_UNIT,
                window,
            ),
        ]
    specs.append(
        _numeric(
            "months_since_last_training",
            "training",
            "距上次培训的月数",
            "months since the last training session",
            _MONTHS_SINCE_UNIT,
        )
    )
    return specs


def _peer_specs(windows: tuple[int, ...]) -> list[FeatureSpec]:
    specs: list[FeatureSpec] = []
    peers = {
        "division": ("同行业大类", "the same industry division"),
        "district": ("同区县", "the same district"),
    }
    for window in long_windows(windows):
        for group, (zh, en) in peers.items():
            specs += [
                _numeric(
                    f"{group}_peer_incident_rate_per_100_{window}m",
                    "peers",
                    f"近{window}个月{zh}其他单位每百名参保职工年均工伤起数",
                    f"injury rate of other employers in {en}, per 100 insured workers"
                    f" per year, last {window} months",
                    _RATE_UNIT,
                    window,
                ),
                _numeric(
                    f"incident_rate_ratio_to_{group}_peers_{window}m",
                    "peers",
                    f"近{window}个月工伤率与{zh}其他单位之比",
                    f"injury rate relative to other employers in {en}, last {window} months",
                    "ratio",
                    window,
                ),
            ]
    return specs


def feature_specs(windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS) -> list[FeatureSpec]:
    """Return the specs of every feature, in column order, for the given windows."""
    windows = check_windows(windows_months)
    return (
        _profile_specs()
        + _incident_specs(windows)
        + _severity_specs(windows)
        + _accident_type_specs(windows)
        + _commuting_specs(windows)
        + _hazard_specs(windows)
        + _training_specs(windows)
        + _peer_specs(windows)
    )


def feature_catalog(windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS) -> pd.DataFrame:
    """Return the feature catalogue as a frame.

    Columns: ``name``, ``family``, ``label_zh``, ``label_en``, ``unit``, ``kind``
    (``"numeric"`` or ``"categorical"``) and ``window_months`` (missing for
    features without a window).
    """
    frame = pd.DataFrame([asdict(spec) for spec in feature_specs(windows_months)])
    frame["window_months"] = frame["window_months"].astype("Int64")
    return frame


def category_levels() -> dict[str, list[str]]:
    """Return the fixed categories of each categorical feature, taken from the code lists.

    Fixing them keeps every feature frame and panel on the same categories, so a
    model fitted on one panel reads the codes of another the same way.
    """
    return {
        "industry_section": codelists.industry_sections()["code"].tolist(),
        "industry_division": codelists.industry_divisions()["division"].tolist(),
        "district_code": codelists.districts()["code"].tolist(),
    }


FEATURE_NAMES: tuple[str, ...] = tuple(spec.name for spec in feature_specs())
CATEGORICAL_FEATURES: tuple[str, ...] = tuple(
    spec.name for spec in feature_specs() if spec.kind == "categorical"
)
