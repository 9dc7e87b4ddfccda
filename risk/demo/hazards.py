"""Hazard inspections and findings, and the rate multiplier of unrectified major hazards.

Inspections and findings depend only on the employer's latent state (risk class,
headcount, frailty) and the calendar, never on injuries, so they can be drawn
before the monthly injury simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk.demo.parameters import HAZARD_CATEGORY_MIX, HAZARD_MAJOR_FACTOR, DemoParameters, lookup
from risk.demo.population import Population
from risk.demo.sampling import choose_by_group
from risk.demo.timeline import (
    calendar_years,
    days_in_month,
    month_index,
    random_days,
    timestamps,
    yearly_ids,
)

_DESCRIPTIONS = {
    "machine_guarding": ("冲压设备防护罩缺失", "传动部位未设防护装置", "急停按钮失效"),
    "lifting_equipment": ("行车钢丝绳磨损超标", "吊钩防脱装置缺失", "起重机限位器失灵"),
    "electrical": ("配电箱未接地", "临时用电线路乱拉乱接", "漏电保护器失效"),
    "fall_protection": ("脚手架未设安全网", "临边洞口未设防护栏杆", "高处作业未系安全带"),
    "structural": ("基坑支护变形未处置", "模板支撑体系不符合方案", "厂房结构开裂"),
    "fire_safety": ("消防通道堵塞", "灭火器过期未更换", "疏散指示标志损坏"),
    "hazardous_chemicals": ("危化品仓库超量储存", "化学品未分类存放", "缺少安全技术说明书"),
    "confined_space": ("有限空间作业未审批", "有限空间未设警示标识", "未配备气体检测仪"),
    "pressure_equipment": ("压力容器未定期检验", "安全阀校验过期", "锅炉水位计损坏"),
    "in_plant_vehicles": ("叉车司机无证驾驶", "厂内车辆超速", "叉车制动失灵"),
    "explosives_dust": ("粉尘清扫制度未落实", "除尘系统未设泄爆装置", "防爆电气不符合要求"),
    "housekeeping": ("通道堆放杂物", "作业现场地面湿滑", "物料堆放超高"),
    "ppe": ("未佩戴安全帽", "未配发防护手套", "防护眼镜缺失"),
    "management": ("安全生产责任制未落实", "隐患排查台账缺失", "操作规程未更新"),
    "training": ("新员工未进行三级安全教育", "特种作业人员未持证上岗", "培训记录不全"),
    "emergency": ("应急预案未演练", "应急物资配备不足", "未设应急联络人"),
}


@dataclass(frozen=True)
class HazardHistory:
    """Hazard findings and their effect on the monthly injury rate.

    Attributes
    ----------
    findings : pandas.DataFrame
        Canonical hazard findings.
    employer_index : numpy.ndarray
        Row of ``Population.employers`` for each finding.
    rate_multiplier : numpy.ndarray
        Shape (N, M): 1 plus the excess rate of unrectified major hazards in each month.
    major_found_month : numpy.ndarray
        Shape (N, M): count of major hazards found in each month.
    """

    findings: pd.DataFrame
    employer_index: np.ndarray
    rate_multiplier: np.ndarray
    major_found_month: np.ndarray


def simulate_hazards(
    rng: np.random.Generator,
    population: Population,
    month_starts: np.ndarray,
    params: DemoParameters,
) -> HazardHistory:
    """Draw inspections, findings and rectification dates, then the rate multiplier."""
    panel_end = month_starts[-1] + np.timedelta64(int(days_in_month(month_starts[-1:])[0]), "D")
    employer, inspected_on = _draw_inspections(rng, population, month_starts, params)
    finding_employer, finding_date = _draw_findings(rng, population, employer, inspected_on, params)

    categories = _draw_categories(rng, population.section[finding_employer])
    major = _draw_major(rng, categories, population.frailty[finding_employer], params)
    rectified_on = finding_date + _draw_rectification_days(rng, major, params)
    open_at_end = rectified_on >= panel_end

    descriptions = _draw_descriptions(rng, categories)
    order = np.lexsort((finding_employer, finding_date))
    findings = _findings_frame(
        population, finding_employer, finding_date, categories, major, rectified_on,
        open_at_end, descriptions, order,
    )
    multiplier = _major_hazard_multiplier(
        finding_employer[major], finding_date[major],
        np.where(open_at_end, panel_end, rectified_on)[major],
        month_starts, len(population.frailty), params,
    )
    major_found = np.zeros((len(population.frailty), len(month_starts)), dtype=np.int64)
    found_month = month_index(finding_date[major], month_starts)
    np.add.at(major_found, (finding_employer[major], found_month), 1)
    return HazardHistory(findings, finding_employer[order], multiplier, major_found)


def _draw_major(
    rng: np.random.Generator, categories: np.ndarray, frailty: np.ndarray, params: DemoParameters
) -> np.ndarray:
    factor = np.array([HAZARD_MAJOR_FACTOR.get(code, 1.0) for code in categories])
    p_major = np.minimum(0.5, params.major_share * factor * frailty**params.major_frailty_power)
    return rng.random(len(categories)) < p_major


def _draw_rectification_days(
    rng: np.random.Generator, major: np.ndarray, params: DemoParameters
) -> np.ndarray:
    median = np.where(
        major, params.major_rectification_median_days, params.general_rectification_median_days
    )
    days = np.ceil(median * np.exp(params.rectification_sigma * rng.standard_normal(len(major))))
    return days.astype("timedelta64[D]")


def _draw_inspections(
    rng: np.random.Generator,
    population: Population,
    month_starts: np.ndarray,
    params: DemoParameters,
) -> tuple[np.ndarray, np.ndarray]:
    per_year = (
        params.inspections_per_year_base
        + params.inspections_per_year_per_class * population.risk_class
    )
    active = population.headcount > 0
    counts = rng.poisson(per_year[:, None] * active)
    employer, year_index = np.nonzero(counts)
    repeats = counts[employer, year_index]
    employer = np.repeat(employer, repeats)
    month = 12 * np.repeat(year_index, repeats) + rng.integers(0, 12, size=len(employer))
    return employer, random_days(rng, month, month_starts)


def _draw_findings(
    rng: np.random.Generator,
    population: Population,
    employer: np.ndarray,
    inspected_on: np.ndarray,
    params: DemoParameters,
) -> tuple[np.ndarray, np.ndarray]:
    year_index = calendar_years(inspected_on) - population.years[0]
    headcount = population.headcount[employer, year_index]
    mean = (
        params.findings_per_inspection
        * population.frailty[employer] ** params.findings_frailty_power
        * (0.7 + 0.1 * population.risk_class[employer])
        * (headcount / 40.0) ** 0.15
    )
    counts = rng.poisson(mean)
    return np.repeat(employer, counts), np.repeat(inspected_on, counts)


def _draw_categories(rng: np.random.Generator, sections: np.ndarray) -> np.ndarray:
    return choose_by_group(rng, sections, lambda section: lookup(HAZARD_CATEGORY_MIX, section))


def _draw_descriptions(rng: np.random.Generator, categories: np.ndarray) -> np.ndarray:
    pick = rng.integers(0, 3, size=len(categories))
    texts = [_DESCRIPTIONS[code][index] for code, index in zip(categories, pick, strict=True)]
    return np.array(texts)


def _findings_frame(
    population: Population,
    employer: np.ndarray,
    inspected_on: np.ndarray,
    categories: np.ndarray,
    major: np.ndarray,
    rectified_on: np.ndarray,
    open_at_end: np.ndarray,
    descriptions: np.ndarray,
    order: np.ndarray,
) -> pd.DataFrame:
    dates = inspected_on[order]
    employer_ids = population.employers["employer_id"].to_numpy()
    finding_ids = yearly_ids(dates, "YH", "-", "", 6)
    rectified = timestamps(rectified_on[order]).where(~open_at_end[order])
    return pd.DataFrame({
        "finding_id": pd.array(finding_ids, dtype="str"),
        "employer_id": pd.array(employer_ids[employer[order]], dtype="str"),
        "inspected_on": timestamps(dates),
        "hazard_category": pd.array(categories[order], dtype="str"),
        "hazard_level": pd.array(np.where(major[order], "major", "general"), dtype="str"),
        "rectified_on": rectified,
        "description": pd.array(descriptions[order], dtype="str"),
    })


def _major_hazard_multiplier(
    employer: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    month_starts: np.ndarray,
    n_employers: int,
    params: DemoParameters,
) -> np.ndarray:
    open_share = np.zeros((n_employers, len(month_starts)))
    lengths = days_in_month(month_starts)
    for month, (month_start, length) in enumerate(zip(month_starts, lengths, strict=True)):
        month_end = month_start + np.timedelta64(int(length), "D")
        overlap = (np.minimum(end, month_end) - np.maximum(start, month_start)).astype(int)
        np.add.at(open_share[:, month], employer, np.clip(overlap, 0, None) / length)
    # Several open major hazards do not multiply: the month is either exposed or not.
    return 1.0 + (params.major_hazard_rate_ratio - 1.0) * np.minimum(open_share, 1.0)
