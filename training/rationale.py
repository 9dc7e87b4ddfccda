"""Sentences, in Chinese and English, saying why an employer was chosen and why each course.

The sentences are built from the same numbers the planner optimised: the
employer's expected injuries, its accident-type profile and the sources
behind it, the open hazards found at inspection, and the injuries each course
is expected to avert.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from risk import codelists

_SOURCE_LABELS = {
    "shap": ("风险模型解释（SHAP 贡献值）", "the risk model's explanation (SHAP contributions)"),
    "incidents": ("本单位近年工伤记录", "the employer's own recent injuries"),
    "hazards": ("未整改的检查隐患", "hazards found at inspection and not yet rectified"),
    "industry": ("所属行业的典型事故分布", "the typical accident mix of its industry"),
}
_ENGAGEMENT_LABELS = {
    "hands_on": ("现场实操", "hands-on"),
    "interactive": ("互动研讨", "interactive"),
    "lecture": ("讲授", "lecture"),
}


@cache
def _accident_names() -> dict[str, tuple[str, str]]:
    table = codelists.accident_types()
    return {row.code: (row.name_zh, row.name_en) for row in table.itertuples(index=False)}


@cache
def _category_names() -> dict[str, tuple[str, str]]:
    table = codelists.hazard_categories()
    return {row.code: (row.name_zh, row.name_en) for row in table.itertuples(index=False)}


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def describe_types(codes: Sequence[str], shares: Sequence[float]) -> tuple[str, str]:
    """Return "机械伤害 40%、物体打击 20%" and "machinery injury 40%, struck by object 20%"."""
    names = _accident_names()
    zh = "、".join(
        f"{names[code][0]} {_percent(share)}" for code, share in zip(codes, shares, strict=True)
    )
    en = ", ".join(
        f"{names[code][1]} {_percent(share)}" for code, share in zip(codes, shares, strict=True)
    )
    return zh, en


def _describe_categories(codes: Sequence[str]) -> tuple[str, str]:
    names = _category_names()
    zh = "、".join(names.get(code, (code, code))[0] for code in sorted(codes))
    en = ", ".join(names.get(code, (code, code))[1] for code in sorted(codes))
    return zh, en


@dataclass(frozen=True)
class CourseContext:
    """Facts about one employer that a course reason quotes."""

    accident_types: tuple[str, ...]
    shares: np.ndarray
    severe: np.ndarray
    serious: np.ndarray
    major: np.ndarray
    open_categories: frozenset[str]


def course_reason(
    course: dict[str, object], context: CourseContext, sessions: int, trainees: int
) -> tuple[str, str]:
    """Return why ``course`` was chosen for the employer, in Chinese and in English."""
    codes = tuple(course["accident_types"])  # type: ignore[arg-type]
    engagement_zh, engagement_en = _ENGAGEMENT_LABELS[str(course["engagement"])]
    parts_zh: list[str] = []
    parts_en: list[str] = []
    if codes:
        positions = [context.accident_types.index(code) for code in codes]
        order = sorted(positions, key=lambda p: -context.shares[p])[:3]
        covered = float(context.shares[positions].sum())
        types_zh, types_en = describe_types(
            [context.accident_types[p] for p in order], [float(context.shares[p]) for p in order]
        )
        parts_zh.append(
            f"针对{types_zh}（本课程覆盖的事故类别合计占该单位风险画像的{_percent(covered)}）"
        )
        parts_en.append(
            f"it addresses {types_en} ({_percent(covered)} of the employer's profile"
            " in the accident types it covers)"
        )
        severity = _severity_reason(positions, context)
        if severity is not None:
            parts_zh.append(f"{severity[0]}，采用{engagement_zh}形式")
            parts_en.append(f"{severity[1]}, so it is taught {engagement_en}")
    else:
        parts_zh.append("综合性课程，作用于全部事故类别")
        parts_en.append("it is a cross-cutting course that acts on every accident type")
    matched = context.open_categories & set(course["hazard_categories"])  # type: ignore[arg-type]
    if matched:
        names_zh, names_en = _describe_categories(sorted(matched))
        parts_zh.append(f"对应检查发现且尚未整改的{names_zh}")
        parts_en.append(f"it answers open inspection findings: {names_en}")
    parts_zh.append(f"安排{sessions}场，约{trainees}人参训")
    parts_en.append(f"{sessions} session(s) for about {trainees} workers")
    english = "; ".join(parts_en)
    return "；".join(parts_zh) + "。", english[:1].upper() + english[1:] + "."


def _severity_reason(positions: list[int], context: CourseContext) -> tuple[str, str] | None:
    if any(context.major[p] for p in positions):
        return (
            "该单位存在对应的未整改重大隐患",
            "the employer has an open major hazard of this kind",
        )
    if any(context.serious[p] for p in positions):
        return (
            "该单位近年发生过此类重伤或死亡事故",
            "the employer had a serious or fatal injury of this kind",
        )
    if any(context.severe[p] for p in positions):
        return "此类事故后果严重", "injuries of this kind are often severe"
    return None


@dataclass(frozen=True)
class EmployerFacts:
    """The figures an employer's rationale quotes."""

    expected_injuries: float
    risk_score: float
    top_types: tuple[str, ...]
    top_shares: tuple[float, ...]
    sources: tuple[str, ...]
    open_hazards: int
    open_major_hazards: int
    course_count: int
    session_count: int
    averted: float
    averted_rank: int
    risk_rank: int
    candidate_count: int


def employer_rationale(facts: EmployerFacts) -> tuple[str, str]:
    """Return why the employer was chosen, in Chinese and in English."""
    types_zh, types_en = describe_types(facts.top_types, facts.top_shares)
    sources_zh = "、".join(_SOURCE_LABELS[name][0] for name in facts.sources)
    sources_en = ", ".join(_SOURCE_LABELS[name][1] for name in facts.sources)
    per_session = facts.averted / max(facts.session_count, 1)
    zh = (
        f"预计未来12个月发生工伤{facts.expected_injuries:.2f}起（风险评分{_percent(facts.risk_score)}，"
        f"在{facts.candidate_count}家候选单位中风险排第{facts.risk_rank}位）；"
        f"风险主要来自{types_zh}，依据{sources_zh}。"
    )
    en = (
        f"Expected {facts.expected_injuries:.2f} injuries in the next 12 months (risk score"
        f" {_percent(facts.risk_score)}, ranked {facts.risk_rank} of"
        f" {facts.candidate_count} candidates"
        f" by risk); the risk comes mainly from {types_en}, according to {sources_en}."
    )
    if facts.open_hazards:
        zh += (
            f"检查发现尚未整改的隐患{facts.open_hazards}项，"
            f"其中重大隐患{facts.open_major_hazards}项。"
        )
        en += (
            f" {facts.open_hazards} hazard(s) found at inspection are still open,"
            f" {facts.open_major_hazards} of them major."
        )
    zh += (
        f"为其安排{facts.course_count}门课程共{facts.session_count}场，预计可避免工伤{facts.averted:.2f}起"
        f"（每场{per_session:.3f}起），按可避免工伤数在候选单位中排第{facts.averted_rank}位。"
    )
    en += (
        f" The {facts.course_count} course(s) in {facts.session_count} session(s)"
        " are expected to avert"
        f" {facts.averted:.2f} injuries ({per_session:.3f} per session), ranking it"
        f" {facts.averted_rank} of the candidates by injuries averted."
    )
    return zh, en
