"""Tailoring: choose each employer's courses to cover its hazard profile, and size the sessions.

The choice is a greedy weighted coverage, run for all employers at once. A
course ``c`` lowers the employer's injury rate of each accident type it
addresses by its relative reduction ``r`` (from the course-effect table, by
the course's engagement and by whether the type is severe for the employer).
A course without accident types is cross-cutting and uses the smaller
``cross_cutting`` reductions on every type. Each step adds the course with the
largest expected injuries averted on top of those already chosen, so the
result has diminishing returns built in::

    residual[a]  *= 1 - r(c, a)
    averted       = expected_injuries * sum_a share[a] * (1 - residual[a])

The reduction is an employer-level effect: it assumes the course reaches the
workers exposed to the hazard, which is what its sessions are sized for
(headcount over class size, up to ``max_sessions_per_course`` classes).
Engaging, hands-on courses carry larger reductions for severe hazards in the
default table, so they win where the hazard is severe. A course is only
offered where its industries match and some trainer holding its
qualification serves the employer's district.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk import codelists
from training.models import CourseChoice, TailoringOptions
from training.profile import ACCIDENT_TYPES, HazardProfiles
from training.rationale import CourseContext, course_reason

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TailoredCourses:
    """Courses chosen for each employer, with the value and sessions they imply.

    Attributes
    ----------
    picks : pd.DataFrame
        One row per (employer, course), in the order the courses were chosen:
        ``employer_id``, ``position`` (row in the candidates), ``course_index``,
        ``course_id``, ``qualification``, ``sessions``, ``trainees``, ``hours``,
        ``planned_attendees`` and ``averted`` (expected injuries this course
        averts on top of the ones before it).
    value : pd.Series
        Expected injuries averted if the employer receives all its courses, by ``employer_id``.
    unplannable : pd.DataFrame
        Employers with no course to offer: ``employer_id``, ``reason_code``,
        ``reason_zh``, ``reason_en``.
    """

    picks: pd.DataFrame
    value: pd.Series
    unplannable: pd.DataFrame
    courses: pd.DataFrame
    profiles: HazardProfiles

    def course_choices(self, employer_id: str) -> list[CourseChoice]:
        """Return the employer's chosen courses with the reason for each."""
        rows = self._pick_rows().get(employer_id)
        if rows is None:
            return []
        arrays = self._profile_arrays()
        position = int(self._pick_columns()["position"][rows[0]])
        context = CourseContext(
            accident_types=ACCIDENT_TYPES,
            shares=arrays["shares"][position],
            severe=arrays["severe"][position],
            serious=arrays["serious"][position],
            major=arrays["major"][position],
            open_categories=self.profiles.open_categories.iat[position],
        )
        course_records = self._course_records()
        columns = self._pick_columns()
        choices = []
        for row in rows:
            course = course_records[int(columns["course_index"][row])]
            sessions, trainees = int(columns["sessions"][row]), int(columns["trainees"][row])
            reason_zh, reason_en = course_reason(course, context, sessions, trainees)
            choices.append(
                CourseChoice(
                    course_id=str(course["course_id"]),
                    title_zh=str(course["title_zh"]),
                    title_en=str(course["title_en"]),
                    sessions=sessions,
                    trainees=trainees,
                    accident_types=tuple(course["accident_types"]),  # type: ignore[call-overload]
                    engagement=str(course["engagement"]),
                    mode=str(course["mode"]),
                    hours=float(course["hours"]),  # type: ignore[arg-type]
                    qualification=str(course["qualification"]),
                    expected_injuries_averted=float(columns["averted"][row]),
                    reason_zh=reason_zh,
                    reason_en=reason_en,
                )
            )
        return choices

    # The caches below are filled on first use; the dataclass is frozen, so they live in __dict__.
    def _pick_rows(self) -> dict[str, np.ndarray]:
        if "_rows" not in self.__dict__:
            groups = self.picks.groupby("employer_id", sort=False).indices
            object.__setattr__(self, "_rows", {str(key): value for key, value in groups.items()})
        return self.__dict__["_rows"]  # type: ignore[no-any-return]

    def _pick_columns(self) -> dict[str, np.ndarray]:
        if "_columns" not in self.__dict__:
            object.__setattr__(
                self,
                "_columns",
                {
                    column: self.picks[column].to_numpy()
                    for column in ("position", "course_index", "sessions", "trainees", "averted")
                },
            )
        return self.__dict__["_columns"]  # type: ignore[no-any-return]

    def _profile_arrays(self) -> dict[str, np.ndarray]:
        if "_arrays" not in self.__dict__:
            object.__setattr__(
                self,
                "_arrays",
                {
                    "shares": self.profiles.shares.to_numpy(float),
                    "severe": self.profiles.severe.to_numpy(bool),
                    "serious": self.profiles.serious.to_numpy(bool),
                    "major": self.profiles.major.to_numpy(bool),
                },
            )
        return self.__dict__["_arrays"]  # type: ignore[no-any-return]

    def _course_records(self) -> list[dict[str, object]]:
        if "_records" not in self.__dict__:
            object.__setattr__(self, "_records", self.courses.to_dict("records"))
        return self.__dict__["_records"]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _CourseArrays:
    coverage_mask: np.ndarray  # courses x accident types, 1 where the course addresses the type
    effect_high: np.ndarray  # courses: relative reduction for a severe type
    effect_low: np.ndarray  # courses: relative reduction for other types


def _course_arrays(courses: pd.DataFrame, effects: pd.DataFrame) -> _CourseArrays:
    lookup = effects.set_index(["scope", "engagement", "hazard_severity"])["relative_reduction"]
    mask = np.zeros((len(courses), len(ACCIDENT_TYPES)))
    high = np.zeros(len(courses))
    low = np.zeros(len(courses))
    for i, course in enumerate(courses.itertuples(index=False)):
        scope = "targeted" if course.accident_types else "cross_cutting"
        if course.accident_types:
            mask[i, [ACCIDENT_TYPES.index(code) for code in course.accident_types]] = 1.0
        else:
            mask[i, :] = 1.0
        high[i] = lookup[(scope, course.engagement, "high")]
        low[i] = lookup[(scope, course.engagement, "low")]
    return _CourseArrays(mask, high, low)


def deliverable_districts(courses: pd.DataFrame, trainers: pd.DataFrame) -> list[frozenset[str]]:
    """Return, per course, the districts where a trainer holding its qualification works."""
    result = []
    for qualification in courses["qualification"]:
        districts: set[str] = set()
        for row in trainers.itertuples(index=False):
            if qualification in row.qualifications:
                districts |= row.district_codes
        result.append(frozenset(districts))
    return result


def _industry_match(candidates: pd.DataFrame, courses: pd.DataFrame) -> np.ndarray:
    """Return employers x courses: True where the course suits the employer's industry.

    A course suits an employer when it lists no industry, or lists the
    employer's section or division.
    """
    match_by_code: dict[str, np.ndarray] = {}
    for code in candidates["industry_code"].astype(str).unique():
        keys = {codelists.industry_division_of(code), codelists.industry_section_of(code) or ""}
        match_by_code[code] = np.array(
            [not industries or bool(keys & set(industries)) for industries in courses["industries"]]
        )
    rows = [match_by_code[code] for code in candidates["industry_code"].astype(str)]
    return np.vstack(rows) if rows else np.zeros((0, len(courses)), dtype=bool)


def _eligibility(
    candidates: pd.DataFrame, courses: pd.DataFrame, trainers: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Return (industry match, deliverable in the employer's district), employers x courses."""
    industry = _industry_match(candidates, courses)
    reach = deliverable_districts(courses, trainers)
    districts = candidates["district_code"].astype(str).to_numpy()
    deliverable = np.array(
        [[district in reach[c] for c in range(len(courses))] for district in districts], dtype=bool
    ).reshape(len(candidates), len(courses))
    return industry, deliverable


def _session_sizes(
    headcount: np.ndarray, class_size: np.ndarray, options: TailoringOptions
) -> tuple[np.ndarray, np.ndarray]:
    """Return (sessions, trainees), employers x courses.

    Every insured worker is trained, up to ``max_sessions_per_course`` full classes.
    """
    trainees = np.minimum(
        np.maximum(headcount[:, None], 1), options.max_sessions_per_course * class_size[None, :]
    )
    sessions = np.maximum(1, np.ceil(trainees / class_size[None, :])).astype(int)
    return sessions, trainees.astype(int)


def _open_hazard_match(profiles: HazardProfiles, courses: pd.DataFrame) -> np.ndarray:
    categories = profiles.open_categories.to_list()
    return np.array(
        [
            [
                bool(open_set & set(course_categories))
                for course_categories in courses["hazard_categories"]
            ]
            for open_set in categories
        ],
        dtype=bool,
    ).reshape(len(categories), len(courses))


def _greedy(
    shares: np.ndarray,
    severe: np.ndarray,
    arrays: _CourseArrays,
    allowed: np.ndarray,
    bonus: np.ndarray,
    options: TailoringOptions,
) -> list[list[tuple[int, float]]]:
    """Return, per employer, the chosen (course index, averted share) pairs in order."""
    residual = np.ones_like(shares)
    allowed = allowed.copy()
    chosen: list[list[tuple[int, float]]] = [[] for _ in range(len(shares))]
    active = np.ones(len(shares), dtype=bool)
    high = (arrays.coverage_mask * arrays.effect_high[:, None]).T
    low = (arrays.coverage_mask * arrays.effect_low[:, None]).T
    for step in range(options.max_courses_per_employer):
        weighted = shares * residual
        gain = (weighted * severe) @ high + (weighted * ~severe) @ low
        score = np.where(allowed, gain * bonus, -1.0)
        best = score.argmax(axis=1)
        best_gain = gain[np.arange(len(shares)), best]
        threshold = 1e-12 if step == 0 else options.min_marginal_share
        active &= (score.max(axis=1) > 0) & (best_gain >= threshold)
        if not active.any():
            break
        rows = np.flatnonzero(active)
        cols = best[rows]
        reduction = np.where(severe[rows], high[:, cols].T, low[:, cols].T)
        residual[rows] *= 1.0 - reduction
        allowed[rows, cols] = False
        for row, col in zip(rows, cols, strict=True):
            chosen[row].append((int(col), float(gain[row, col])))
    return chosen


def tailor_courses(
    candidates: pd.DataFrame,
    profiles: HazardProfiles,
    courses: pd.DataFrame,
    trainers: pd.DataFrame,
    effects: pd.DataFrame,
    options: TailoringOptions | None = None,
) -> TailoredCourses:
    """Choose courses for every candidate and compute the injuries they are expected to avert.

    Parameters
    ----------
    candidates : pd.DataFrame
        ``employer_id``, ``district_code``, ``industry_code``, ``headcount``,
        ``expected_injuries``, in the row order of ``profiles``.
    profiles : HazardProfiles
        From :func:`training.profile.build_hazard_profiles`.
    courses, trainers, effects : pd.DataFrame
        Parsed catalogue frames from :mod:`training.catalog`.
    options : TailoringOptions, optional
        Course and session limits.
    """
    options = options or TailoringOptions()
    courses = courses.reset_index(drop=True)
    shares = profiles.shares.to_numpy(float)
    severe = profiles.severe.to_numpy(bool)
    headcount = candidates["headcount"].to_numpy(float)
    sessions, trainees = _session_sizes(headcount, courses["class_size"].to_numpy(float), options)
    industry, deliverable = _eligibility(candidates, courses, trainers)
    hazard_match = _open_hazard_match(profiles, courses)
    bonus = np.where(hazard_match, options.open_hazard_bonus, 1.0)
    arrays = _course_arrays(courses, effects)
    chosen = _greedy(shares, severe, arrays, industry & deliverable, bonus, options)

    picks = _picks_frame(candidates, courses, chosen, sessions, trainees)
    picks["averted"] = (
        picks["averted"]
        * candidates["expected_injuries"].to_numpy(float)[picks["position"].to_numpy(int)]
    )
    ids = candidates["employer_id"].astype(str).to_numpy()
    value = picks.groupby("employer_id")["averted"].sum().reindex(ids, fill_value=0.0)
    unplannable = _unplannable(candidates, industry, deliverable, chosen)
    logger.info(
        "Tailored courses for %d employers (%d without a deliverable course)",
        len(candidates),
        len(unplannable),
    )
    return TailoredCourses(
        picks=picks,
        value=value.rename("expected_injuries_averted"),
        unplannable=unplannable,
        courses=courses,
        profiles=profiles,
    )


def _picks_frame(
    candidates: pd.DataFrame,
    courses: pd.DataFrame,
    chosen: list[list[tuple[int, float]]],
    sessions: np.ndarray,
    trainees: np.ndarray,
) -> pd.DataFrame:
    """Return the chosen courses as rows; ``averted`` is still a share of expected injuries."""
    positions = np.array([i for i, picks in enumerate(chosen) for _ in picks], dtype=int)
    course_index = np.array([col for picks in chosen for col, _ in picks], dtype=int)
    gains = np.array([gain for picks in chosen for _, gain in picks], dtype=float)
    n_sessions = sessions[positions, course_index] if len(positions) else np.zeros(0, dtype=int)
    n_trainees = trainees[positions, course_index] if len(positions) else np.zeros(0, dtype=int)
    return pd.DataFrame(
        {
            "employer_id": candidates["employer_id"].astype(str).to_numpy()[positions],
            "position": positions,
            "course_index": course_index,
            "course_id": courses["course_id"].to_numpy()[course_index],
            "qualification": courses["qualification"].to_numpy()[course_index],
            "sessions": n_sessions.astype(int),
            "trainees": n_trainees.astype(int),
            "hours": courses["hours"].to_numpy(float)[course_index],
            "planned_attendees": np.ceil(n_trainees / np.maximum(n_sessions, 1)).astype(int),
            "averted": gains,
        }
    )


def _unplannable(
    candidates: pd.DataFrame,
    industry: np.ndarray,
    deliverable: np.ndarray,
    chosen: list[list[tuple[int, float]]],
) -> pd.DataFrame:
    rows = []
    for i, employer_id in enumerate(candidates["employer_id"].astype(str)):
        if chosen[i]:
            continue
        if not (industry[i] & deliverable[i]).any():
            rows.append(
                (
                    employer_id,
                    "no_deliverable_course",
                    "没有适用于该单位行业、且有合格培训机构服务其所在区县的课程",
                    "no course suits the employer's industry and has a qualified trainer"
                    " serving its district",
                )
            )
        else:
            rows.append(
                (
                    employer_id,
                    "no_expected_benefit",
                    "可选课程对该单位的预期工伤数没有可测的降低",
                    "no available course is expected to lower the employer's injuries",
                )
            )
    return pd.DataFrame(rows, columns=["employer_id", "reason_code", "reason_zh", "reason_en"])
