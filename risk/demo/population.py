"""Synthetic Hangzhou employers: district, industry, insured headcount by year and frailty."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from risk import codelists
from risk.demo import identifiers
from risk.demo.parameters import (
    DISTRICT_PROFILE,
    DISTRICT_SHARES,
    DIVISION_WEIGHTS,
    HEADCOUNT_LOGNORMAL,
    MAX_HEADCOUNT,
    RISK_CLASS_RELATIVE_RATE,
    SECTION_MIX_BY_PROFILE,
    DemoParameters,
)
from risk.demo.sampling import choose_by_group, choose_weighted

# Sections whose employers are often public institutions (registration prefix 12).
_PUBLIC_SECTIONS = ("P", "Q", "S")
_PUBLIC_SHARE = 0.3


@dataclass(frozen=True)
class Population:
    """Employers with their latent state, in arrays aligned with the ``employers`` rows.

    Attributes
    ----------
    employers, headcounts : pandas.DataFrame
        Canonical frames (see the data contract in ``risk.demo``).
    years : numpy.ndarray
        Calendar years of the panel, shape (Y,).
    headcount : numpy.ndarray
        Insured headcount by employer and year, shape (N, Y), 0 before the employer entered.
    section : numpy.ndarray
        GB/T 4754 section letter of each employer.
    risk_class : numpy.ndarray
        Work-injury insurance risk class 1-8.
    frailty : numpy.ndarray
        Mean-1 gamma frailty: the employer's persistent, unobserved risk multiplier.
    entry_year : numpy.ndarray
        First year with insured workers.
    """

    employers: pd.DataFrame
    headcounts: pd.DataFrame
    years: np.ndarray
    headcount: np.ndarray
    section: np.ndarray
    risk_class: np.ndarray
    frailty: np.ndarray
    entry_year: np.ndarray

    @property
    def class_relative_rate(self) -> np.ndarray:
        """Return each employer's relative injury rate from its risk class."""
        lookup = np.array([0.0] + [RISK_CLASS_RELATIVE_RATE[k] for k in range(1, 9)])
        return lookup[self.risk_class]


def build_population(
    rng: np.random.Generator, n_employers: int, years: np.ndarray, params: DemoParameters
) -> Population:
    """Draw employers, their yearly insured headcount and their frailty."""
    districts = _draw_districts(rng, n_employers)
    sections = _draw_sections(rng, districts)
    divisions = _draw_divisions(rng, sections)
    industry_codes = _industry_codes(rng, sections, divisions)
    risk_class = np.array([codelists.risk_class_of(code) for code in industry_codes])

    public_body = np.isin(sections, _PUBLIC_SECTIONS) & (rng.random(n_employers) < _PUBLIC_SHARE)
    prefixes = np.where(public_body, "12", "91")
    employer_ids = identifiers.make_credit_codes(rng, districts, prefixes)
    district_names = _district_names(districts)
    names = identifiers.make_employer_names(rng, district_names, sections, divisions, public_body)

    headcount, entry_year = _draw_headcounts(rng, sections, years, params)
    shape = 1.0 / params.frailty_variance
    frailty = rng.gamma(shape, params.frailty_variance, size=n_employers)

    employers = pd.DataFrame({
        "employer_id": pd.array(employer_ids, dtype="str"),
        "id_scheme": pd.array(np.full(n_employers, "uscc"), dtype="str"),
        "name": pd.array(names, dtype="str"),
        "industry_code": pd.array(industry_codes, dtype="str"),
        "district_code": pd.array(districts, dtype="str"),
    })
    return Population(
        employers=employers,
        headcounts=_headcount_frame(employer_ids, years, headcount),
        years=years,
        headcount=headcount,
        section=sections,
        risk_class=risk_class,
        frailty=frailty,
        entry_year=entry_year,
    )


def _draw_districts(rng: np.random.Generator, size: int) -> np.ndarray:
    return choose_weighted(rng, DISTRICT_SHARES, size)


def _draw_sections(rng: np.random.Generator, districts: np.ndarray) -> np.ndarray:
    profiles = np.array([DISTRICT_PROFILE[code] for code in districts])
    return choose_by_group(rng, profiles, SECTION_MIX_BY_PROFILE.__getitem__)


def _draw_divisions(rng: np.random.Generator, sections: np.ndarray) -> np.ndarray:
    table = codelists.industry_divisions()

    def weights_for(section: str) -> dict[str, float]:
        uniform = dict.fromkeys(table.loc[table["section"] == section, "division"], 1.0)
        return DIVISION_WEIGHTS.get(section, uniform)

    return choose_by_group(rng, sections, weights_for)


def _industry_codes(
    rng: np.random.Generator, sections: np.ndarray, divisions: np.ndarray
) -> np.ndarray:
    # Group digit 1-4 and class digit 1-3 inside the division: the class codes are
    # synthetic, but section and division (which set the risk class) are real.
    group = rng.integers(1, 5, size=len(sections)).astype(str)
    klass = rng.integers(1, 4, size=len(sections)).astype(str)
    return np.char.add(np.char.add(np.char.add(sections, divisions), group), klass)


def _district_names(districts: np.ndarray) -> np.ndarray:
    table = codelists.districts()
    names = dict(zip(table["code"], table["name_zh"], strict=True))
    return np.array([names[code] for code in districts])


def _draw_headcounts(
    rng: np.random.Generator, sections: np.ndarray, years: np.ndarray, params: DemoParameters
) -> tuple[np.ndarray, np.ndarray]:
    size = len(sections)
    medians = np.array([HEADCOUNT_LOGNORMAL[s][0] for s in sections], dtype=float)
    sigmas = np.array([HEADCOUNT_LOGNORMAL[s][1] for s in sections])
    base = medians * np.exp(sigmas * rng.standard_normal(size))

    late = rng.random(size) < params.late_entry_share
    entry_offset = np.where(late, rng.integers(1, max(len(years), 2), size=size), 0)
    entry_offset = np.minimum(entry_offset, len(years) - 1)
    growth = rng.normal(params.headcount_growth_mean, params.headcount_growth_sd, size=size)
    noise = rng.normal(0.0, params.headcount_noise_sd, size=(size, len(years)))

    elapsed = np.arange(len(years))[None, :] - entry_offset[:, None]
    raw = base[:, None] * np.exp(growth[:, None] * np.maximum(elapsed, 0) + noise)
    headcount = np.clip(np.rint(raw), 1, MAX_HEADCOUNT).astype(np.int64)
    headcount[elapsed < 0] = 0
    return headcount, years[entry_offset]


def _headcount_frame(
    employer_ids: np.ndarray, years: np.ndarray, headcount: np.ndarray
) -> pd.DataFrame:
    rows, columns = np.nonzero(headcount)
    return pd.DataFrame({
        "employer_id": pd.array(employer_ids[rows], dtype="str"),
        "year": years[columns].astype(np.int64),
        "insured_headcount": headcount[rows, columns].astype(np.int64),
        "hours_worked": np.full(len(rows), np.nan),
    })
