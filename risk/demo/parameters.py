"""Parameters of the synthetic Hangzhou demo data set, with their sources.

Scalars live in :class:`DemoParameters` so a test or a notebook can change one
(for example the training effect) and keep the rest. Tables of weights are
module constants. ``docs/demo-data.md`` explains each choice. A value not taken
from a cited source is this project's assumption and is marked as one here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

# Recognised (and deemed) work injuries per 100 insured workers per year.
# NOTE: an estimate. MOHRSS put the insured at 255 million at the end of 2019, but the
# recognised-injury counts of its statistical bulletins (from memory 1.1-1.3 million
# a year in 2019-2023) could not be opened and checked. See docs/demo-data.md.
NATIONAL_INJURIES_PER_100_INSURED = 0.45

# Variance of the mean-1 gamma frailty of each employer. NB2 fit on mine totals of
# the MSHA underground-coal panel 2000-2012 (874 mines, 35,355 injuries, states with
# under half their mines in the injuries file left out): alpha = 0.3348, SE 0.025.
# Reproduce with risk.demo.dispersion.fit_injury_overdispersion(
#   "<msha_coal_panel>/mine_quarter_employment.csv",
#   "<msha_coal_panel>/mine_quarter_injuries.csv").alpha_mine_total
FRAILTY_VARIANCE = 0.335

# Expected injuries grow with insured headcount to this power. Same MSHA panel:
# coefficient of log(hours) when it enters the NB2 model as a covariate (0.931).
HEADCOUNT_ELASTICITY = 0.93

# Relative injury rate of the eight national work-injury risk classes, set equal to
# the base premium rates of the 2015 notice (0.2 % ... 1.9 % of payroll) because the
# premium is priced on each class's injury experience. Normalised at generation.
RISK_CLASS_RELATIVE_RATE = {1: 0.2, 2: 0.4, 3: 0.7, 4: 0.9, 5: 1.1, 6: 1.3, 7: 1.6, 8: 1.9}

# Hangzhou districts (GB/T 2260) with their share of employers and an industry profile.
DISTRICT_SHARES = {
    "330102": 0.09, "330105": 0.08, "330106": 0.10, "330108": 0.08, "330109": 0.15,
    "330110": 0.12, "330111": 0.06, "330112": 0.05, "330113": 0.08, "330114": 0.07,
    "330122": 0.04, "330127": 0.03, "330182": 0.05,
}
DISTRICT_PROFILE = {
    "330102": "urban", "330105": "urban", "330106": "urban", "330108": "tech",
    "330109": "industrial", "330110": "industrial", "330111": "industrial",
    "330113": "industrial", "330114": "industrial",
    "330112": "county", "330122": "county", "330127": "county", "330182": "county",
}

# Share of employers by GB/T 4754 section within each district profile (assumption:
# services and IT in the urban core and Binjiang, manufacturing in the outer districts).
SECTION_MIX_BY_PROFILE = {
    "urban": {"C": 6, "E": 6, "F": 22, "G": 5, "H": 10, "I": 14, "J": 5, "K": 5,
              "L": 12, "M": 6, "N": 1, "O": 4, "P": 2, "Q": 1, "R": 1},
    "tech": {"C": 10, "E": 4, "F": 12, "G": 4, "H": 6, "I": 32, "J": 3, "K": 3,
             "L": 12, "M": 10, "O": 2, "P": 1, "Q": 1},
    "industrial": {"C": 40, "D": 1, "E": 10, "F": 14, "G": 9, "H": 5, "I": 5, "K": 2,
                   "L": 6, "M": 3, "N": 1, "O": 2, "P": 1, "Q": 1},
    "county": {"A": 6, "B": 2, "C": 30, "D": 2, "E": 10, "F": 17, "G": 6, "H": 10,
               "I": 2, "K": 2, "L": 4, "N": 2, "O": 4, "P": 2, "Q": 1},
}

# Division weights within a section. A section not listed draws its divisions uniformly.
DIVISION_WEIGHTS = {
    "B": {"10": 8, "11": 1, "12": 1},
    "C": {"13": 2, "14": 3, "15": 2, "17": 8, "18": 6, "19": 2, "20": 2, "21": 3, "22": 3,
          "23": 2, "24": 2, "26": 5, "27": 3, "29": 6, "30": 4, "31": 1, "32": 1, "33": 8,
          "34": 8, "35": 6, "36": 4, "37": 2, "38": 7, "39": 7, "40": 2, "41": 2, "42": 1,
          "43": 1},
    "E": {"47": 4, "48": 2, "49": 2, "50": 3},
    "G": {"54": 5, "55": 1, "58": 2, "59": 3, "60": 2},
    "I": {"63": 1, "64": 4, "65": 8},
    "S": {"94": 1, "95": 2, "96": 1},
}

# Insured headcount at entry: log-normal (median, sigma of the log) by section (assumption).
HEADCOUNT_LOGNORMAL = {
    "A": (10, 0.9), "B": (40, 0.8), "C": (40, 1.1), "D": (60, 1.0), "E": (50, 1.2),
    "F": (8, 1.0), "G": (25, 1.1), "H": (12, 1.0), "I": (20, 1.2), "J": (30, 1.2),
    "K": (15, 1.0), "L": (10, 1.1), "M": (15, 1.1), "N": (20, 1.0), "O": (6, 0.9),
    "P": (30, 1.0), "Q": (40, 1.2), "R": (10, 1.0), "S": (30, 1.0),
}
MAX_HEADCOUNT = 30_000

# GB 6441 accident-type mix of workplace injuries by section. "*" is every other section.
ACCIDENT_TYPE_MIX = {
    "B": {"01": 20, "02": 10, "03": 15, "09": 5, "10": 10, "11": 15, "13": 5, "20": 20},
    "C": {"01": 20, "02": 5, "03": 38, "04": 6, "05": 3, "07": 6, "08": 1, "09": 5,
          "17": 1, "19": 2, "20": 13},
    "D": {"01": 10, "02": 10, "05": 25, "07": 10, "09": 15, "19": 5, "20": 25},
    "E": {"01": 18, "02": 6, "03": 8, "04": 7, "05": 6, "09": 32, "10": 8, "20": 15},
    "G": {"01": 12, "02": 45, "03": 5, "04": 8, "09": 8, "20": 22},
    "H": {"01": 10, "02": 5, "03": 8, "07": 22, "09": 10, "20": 45},
    "*": {"01": 15, "02": 14, "03": 8, "05": 3, "07": 5, "08": 1, "09": 14, "19": 1,
          "20": 39},
}
COMMUTING_ACCIDENT_TYPE_MIX = {"02": 85, "20": 15}

# Share of fatal and of serious (>= 105 lost workdays) injuries by accident type (assumption).
FATAL_SHARE = {"02": 0.015, "05": 0.03, "06": 0.10, "09": 0.02, "10": 0.03, "11": 0.03,
               "13": 0.05, "15": 0.10, "19": 0.08, "*": 0.003}
SERIOUS_SHARE = {"02": 0.18, "03": 0.15, "04": 0.15, "09": 0.20, "10": 0.20, "11": 0.20,
                 "07": 0.10, "*": 0.08}
# Median lost workdays of a minor injury by accident type, log-normal with the sigma below.
MINOR_LOST_WORKDAYS_MEDIAN = {"01": 21, "02": 40, "03": 35, "04": 35, "07": 25, "09": 45,
                              "10": 40, "*": 20}
# Weights of disability grades 1 (worst) to 10 for graded serious injuries. Graded minor
# injuries get grade 9 or 10.
SERIOUS_GRADE_WEIGHTS = (1, 2, 3, 4, 6, 8, 12, 18, 22, 24)
MINOR_GRADE_WEIGHTS = {9: 3, 10: 7}

# Hazard categories found at inspections, by section (codes of hazard_categories.csv).
HAZARD_CATEGORY_MIX = {
    "C": {"machine_guarding": 20, "lifting_equipment": 6, "electrical": 12,
          "fire_safety": 12, "hazardous_chemicals": 6, "pressure_equipment": 4,
          "in_plant_vehicles": 6, "explosives_dust": 3, "housekeeping": 10, "ppe": 8,
          "management": 6, "training": 4, "emergency": 3},
    "E": {"fall_protection": 25, "structural": 15, "lifting_equipment": 12,
          "electrical": 10, "housekeeping": 8, "ppe": 12, "fire_safety": 5,
          "management": 8, "training": 5},
    "G": {"in_plant_vehicles": 25, "lifting_equipment": 10, "fire_safety": 12,
          "electrical": 8, "housekeeping": 15, "ppe": 8, "management": 12, "training": 10},
    "*": {"electrical": 15, "fire_safety": 25, "housekeeping": 15, "ppe": 5,
          "confined_space": 2, "management": 18, "training": 10, "emergency": 10},
}
HAZARD_MAJOR_FACTOR = {"hazardous_chemicals": 3.0, "confined_space": 3.0, "structural": 2.5,
                       "explosives_dust": 3.0, "lifting_equipment": 1.5, "fall_protection": 1.5}

# Prevention courses (课程编号) by the accident types an employer's section mostly has.
# The IDs are course_id values of the shipped catalogue, training/catalog/courses.csv.
COURSE_BY_SECTION = {"B": "MIN-01", "C": "MFG-01", "D": "ELC-01",
                     "E": "CON-01", "G": "LOG-01", "H": "SRV-01", "*": "GEN-02"}

# Monthly seasonality (January-December), normalised to mean 1 at generation. Assumption:
# fewer injuries in February (Spring Festival shutdown), a few more after the restart.
MONTH_FACTORS = (0.95, 0.75, 1.05, 1.03, 1.02, 1.02, 1.04, 1.04, 1.02, 1.00, 1.02, 1.03)


@dataclass(frozen=True)
class DemoParameters:
    """Scalar parameters of the generative model. The module constants contain the tables.

    Rates are per insured worker unless a name states otherwise. ``training_effect_*``
    is the true effect that an evaluation of the programme should recover.
    """

    national_injuries_per_100: float = NATIONAL_INJURIES_PER_100_INSURED
    # Assumption: share of recognised injuries that happen commuting (上下班途中).
    commuting_share: float = 0.15
    frailty_variance: float = FRAILTY_VARIANCE
    headcount_elasticity: float = HEADCOUNT_ELASTICITY
    # Secular rate change per year: the 2026-2030 national work-injury prevention plan
    # targets a fall of about 10 % over five years in key industries.
    annual_rate_trend: float = -0.02
    # Employers first insured after the first year of the panel (assumption).
    late_entry_share: float = 0.12
    headcount_growth_mean: float = 0.03
    headcount_growth_sd: float = 0.06
    headcount_noise_sd: float = 0.05
    # Inspections per employer-year: base + per_class * risk class (assumption).
    inspections_per_year_base: float = 0.10
    inspections_per_year_per_class: float = 0.05
    findings_per_inspection: float = 2.0
    # Findings and the chance of a major hazard rise with frailty to these powers.
    findings_frailty_power: float = 0.8
    major_share: float = 0.04
    major_frailty_power: float = 0.5
    general_rectification_median_days: float = 15.0
    major_rectification_median_days: float = 45.0
    rectification_sigma: float = 0.8
    # Rate ratio while at least one major hazard found at the employer is not rectified.
    major_hazard_rate_ratio: float = 1.5
    # Training programme: monthly selection chance of an eligible employer, raised
    # when it had a workplace injury or a major hazard in the past 12 months.
    training_base_probability: float = 0.0012
    training_incident_boost: float = 4.0
    training_major_hazard_boost: float = 2.0
    # True effect: rate ratio in the 12 months after the training month. Robson et al.
    # (Scand J Work Environ Health 2012;38(3):193-208) found strong evidence that OHS
    # training changes behaviour but insufficient evidence of an effect on injuries,
    # so the effect is modest: a 15 % reduction.
    training_effect_rate_ratio: float = 0.85
    training_effect_months: int = 12
    training_attendees_median: float = 25.0
    minor_lost_workdays_sigma: float = 0.8
    serious_extra_lost_workdays_median: float = 60.0
    serious_lost_workdays_sigma: float = 0.7
    max_lost_workdays: int = 720
    serious_graded_share: float = 0.75
    minor_graded_share: float = 0.08
    # Share of exported rows given a data-entry fault for ingest to catch.
    fault_rate: float = 0.005

    def to_dict(self) -> dict[str, Any]:
        """Return every parameter, scalars and tables, as JSON-ready values."""
        tables = {
            "risk_class_relative_rate": RISK_CLASS_RELATIVE_RATE,
            "district_shares": DISTRICT_SHARES,
            "district_profile": DISTRICT_PROFILE,
            "section_mix_by_profile": SECTION_MIX_BY_PROFILE,
            "division_weights": DIVISION_WEIGHTS,
            "headcount_lognormal": HEADCOUNT_LOGNORMAL,
            "accident_type_mix": ACCIDENT_TYPE_MIX,
            "commuting_accident_type_mix": COMMUTING_ACCIDENT_TYPE_MIX,
            "fatal_share": FATAL_SHARE,
            "serious_share": SERIOUS_SHARE,
            "minor_lost_workdays_median": MINOR_LOST_WORKDAYS_MEDIAN,
            "serious_grade_weights": SERIOUS_GRADE_WEIGHTS,
            "minor_grade_weights": MINOR_GRADE_WEIGHTS,
            "hazard_category_mix": HAZARD_CATEGORY_MIX,
            "hazard_major_factor": HAZARD_MAJOR_FACTOR,
            "course_by_section": COURSE_BY_SECTION,
            "month_factors": MONTH_FACTORS,
            "max_headcount": MAX_HEADCOUNT,
        }
        return {**asdict(self), "tables": tables}


def lookup(table: dict[str, Any], key: str) -> Any:
    """Return ``table[key]``, or the ``"*"`` default entry when the key is absent."""
    return table.get(key, table["*"])
