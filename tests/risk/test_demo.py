"""Tests of the synthetic demo data generator (risk.demo)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from risk.credit_code import ALPHABET, check_character, is_valid_credit_code
from risk.demo import (
    DemoParameters,
    DemoTables,
    default_end_year,
    generate_demo_data,
    generate_demo_tables,
    read_faults,
    read_monthly_rates,
)
from risk.demo.faults import FAULT_KINDS
from risk.demo.identifiers import credit_check_characters
from risk.demo.sampling import poisson_from_uniform
from risk.demo.writer import EXPORT_FILES

END_YEAR = 2024
SMALL = {"employers": 400, "years": 3, "seed": 11, "end_year": END_YEAR}

CONTRACT_HEADERS = {
    "employers.csv": ["统一社会信用代码", "单位名称", "行业代码", "所属区县"],
    "headcounts.csv": ["统一社会信用代码", "年度", "参保人数"],
    "incidents.csv": [
        "工伤认定书编号", "统一社会信用代码", "姓名", "身份证号", "手机号", "事故发生日期",
        "事故类别", "伤害程度", "停工留薪期(天)", "伤残等级", "是否上下班途中",
    ],
    "hazard_findings.csv": [
        "隐患编号", "统一社会信用代码", "检查日期", "隐患类别", "隐患等级", "整改日期", "隐患描述",
    ],
    "training_records.xlsx": [
        "培训记录编号", "统一社会信用代码", "课程编号", "培训日期", "参训人数",
    ],
}


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small demo data set written to disk once for the module."""
    out = tmp_path_factory.mktemp("demo")
    generate_demo_data(out, **SMALL)
    return out


@pytest.fixture(scope="module")
def medium_tables() -> DemoTables:
    """A moderately sized in-memory data set for statistical checks."""
    return generate_demo_tables(employers=4000, years=6, seed=5, end_year=END_YEAR)


def _read_export(demo_dir: Path, file_name: str) -> pd.DataFrame:
    table = next(name for name, (file, _) in EXPORT_FILES.items() if file == file_name)
    encoding = EXPORT_FILES[table][1]
    path = demo_dir / "exports" / file_name
    if encoding is None:
        return pd.read_excel(path, dtype=str)
    return pd.read_csv(path, encoding=encoding, dtype=str, keep_default_na=False)


def _file_hashes(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _resident_id_valid(number: str) -> bool:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], weights, strict=True))
    return len(number) == 18 and "10X98765432"[total % 11] == number[17]


def test_demo_data_same_seed_identical(demo_dir: Path, tmp_path: Path) -> None:
    """Generating twice with one seed writes byte-identical files, XLSX and gzip included."""
    generate_demo_data(tmp_path, **SMALL)

    first = _file_hashes(demo_dir)
    second = _file_hashes(tmp_path)

    assert len(first) == 9
    assert first == second


def test_demo_data_other_seed_differs(demo_dir: Path, tmp_path: Path) -> None:
    """Another seed gives different exports."""
    generate_demo_data(tmp_path, **{**SMALL, "seed": 12})

    first = _file_hashes(demo_dir)
    second = _file_hashes(tmp_path)

    for name in ("exports/employers.csv", "exports/incidents.csv", "truth/monthly_rates.csv.gz"):
        assert first[name] != second[name], name


def test_exports_headers_match_contract(demo_dir: Path) -> None:
    """Every export file carries exactly the contract's Chinese headers, in order."""
    for file_name, headers in CONTRACT_HEADERS.items():
        assert list(_read_export(demo_dir, file_name).columns) == headers, file_name


def test_exports_encodings(demo_dir: Path) -> None:
    """Employers has a UTF-8 BOM, headcounts is GB18030 and incidents plain UTF-8."""
    exports = demo_dir / "exports"

    assert (exports / "employers.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert (exports / "headcounts.csv").read_bytes().startswith("统一".encode("gb18030"))
    assert (exports / "incidents.csv").read_bytes().startswith("工伤".encode())


def test_exports_credit_codes_valid_except_faults(demo_dir: Path) -> None:
    """Every credit code passes GB 32100 except the injected bad check characters."""
    faults = read_faults(demo_dir / "truth")
    bad = faults[faults["kind"] == "bad_credit_code"]

    for file_name in CONTRACT_HEADERS:
        codes = _read_export(demo_dir, file_name)["统一社会信用代码"]
        invalid_rows = {row + 2 for row, code in codes.items() if not is_valid_credit_code(code)}
        expected_rows = set(bad.loc[bad["file"] == file_name, "row"])
        assert invalid_rows == expected_rows, file_name


def test_employer_ids_embed_district(medium_tables: DemoTables) -> None:
    """Characters 3-8 of each credit code are the employer's district code."""
    employers = medium_tables.employers

    assert (employers["employer_id"].str[2:8] == employers["district_code"]).all()
    assert employers["employer_id"].is_unique


def test_exports_personal_data_present_and_valid(demo_dir: Path) -> None:
    """The incident file contains names, phone numbers and GB 11643 ID numbers to be dropped."""
    incidents = _read_export(demo_dir, "incidents.csv")

    assert _resident_id_valid("11010519491231002X")
    assert incidents["身份证号"].map(_resident_id_valid).all()
    assert incidents["手机号"].str.fullmatch(r"1[3-9]\d{9}").all()
    assert (incidents["姓名"].str.len() >= 2).all()


def test_exports_agency_value_formats(demo_dir: Path) -> None:
    """Values are written as offices write them: Chinese names, 是/否 and two date styles."""
    incidents = _read_export(demo_dir, "incidents.csv")
    findings = _read_export(demo_dir, "hazard_findings.csv")
    employers = _read_export(demo_dir, "employers.csv")

    assert set(incidents["伤害程度"]) <= {"轻伤", "重伤", "死亡"}
    assert set(incidents["是否上下班途中"]) == {"是", "否"}
    assert incidents["事故类别"].isin(["机械伤害", "物体打击", "车辆伤害"]).any()
    assert set(findings["隐患等级"]) == {"一般隐患", "重大隐患"}
    assert findings["检查日期"].str.contains("年").any()
    assert findings["检查日期"].str.contains("/").any()
    assert employers["所属区县"].str.fullmatch(r"\d{6}").any()
    assert employers["所属区县"].str.endswith(("区", "县", "市")).any()


def test_training_records_xlsx_has_dates(demo_dir: Path) -> None:
    """The training records are an XLSX sheet with real date cells."""
    workbook = openpyxl.load_workbook(demo_dir / "exports" / "training_records.xlsx")
    sheet = workbook.active
    first_row = next(sheet.iter_rows(min_row=2, max_row=2, values_only=True))

    assert isinstance(first_row[3], dt.datetime)
    assert isinstance(first_row[4], int)


def test_faults_every_kind_at_configured_rate(tmp_path: Path) -> None:
    """Faults hit about 0.5 % of rows and every kind appears."""
    summary = generate_demo_data(tmp_path, employers=3000, years=4, seed=3, end_year=END_YEAR)
    faults = read_faults(tmp_path / "truth")
    faulted_rows = sum(summary.rows[table] for table in FAULT_KINDS)
    expected_kinds = {kind for kinds in FAULT_KINDS.values() for kind in kinds}

    assert set(faults["kind"]) == expected_kinds
    assert 0.004 <= len(faults) / faulted_rows <= 0.007
    assert summary.faults == len(faults)


def test_faults_rows_hold_logged_values(demo_dir: Path) -> None:
    """Each logged fault is at the logged row and column of its file."""
    faults = read_faults(demo_dir / "truth")

    for fault in faults.itertuples(index=False):
        frame = _read_export(demo_dir, fault.file)
        assert frame.loc[fault.row - 2, fault.column] == fault.value, fault


def test_demo_rate_matches_national(medium_tables: DemoTables) -> None:
    """Recognised injuries per 100 insured worker-years match the configured national rate."""
    target = DemoParameters().national_injuries_per_100
    worker_years = medium_tables.population.headcount.sum()

    rate = 100.0 * len(medium_tables.incidents) / worker_years
    expected_rate = 100.0 * (
        medium_tables.injuries.expected_injuries.sum() + medium_tables.injuries.commuting_rate.sum()
    ) / worker_years

    assert rate == pytest.approx(target, rel=0.1)
    # Only the training effect moves the expected rate below the calibration target.
    assert expected_rate == pytest.approx(target, rel=0.01)


def test_demo_commuting_share(medium_tables: DemoTables) -> None:
    """About the configured share of recognised injuries are commuting injuries."""
    share = medium_tables.incidents["is_commuting"].mean()

    assert share == pytest.approx(DemoParameters().commuting_share, abs=0.03)


def test_demo_frailty_variance(medium_tables: DemoTables) -> None:
    """A moment estimate of the frailty variance from injury counts recovers the parameter."""
    injuries = medium_tables.injuries
    frailty = medium_tables.population.frailty
    counts = injuries.work_counts.sum(axis=1)
    # Expected counts with the frailty divided out: what a model knowing everything else predicts.
    mean = injuries.expected_injuries.sum(axis=1) / frailty
    keep = mean > 0
    counts, mean = counts[keep], mean[keep]

    per_employer = ((counts - mean) ** 2 - counts) / mean**2
    # NB2 weights m^2 / (1 + a m)^2 with the working value a = the parameter.
    variance = DemoParameters().frailty_variance
    weights = (mean / (1.0 + variance * mean)) ** 2
    estimate = float((weights * per_employer).sum() / weights.sum())

    assert estimate == pytest.approx(variance, abs=0.08)
    assert frailty.mean() == pytest.approx(1.0, abs=0.03)


def test_training_effect_after_training_month(medium_tables: DemoTables) -> None:
    """The training multiplier is 1 up to the training month and the rate ratio for 12 after."""
    injuries = medium_tables.injuries
    params = DemoParameters()
    n_months = injuries.base_rate.shape[1]

    assert len(injuries.training_employer) > 100
    for employer, month in zip(injuries.training_employer, injuries.training_month, strict=True):
        before = injuries.training_multiplier[employer, : month + 1]
        after = injuries.training_multiplier[employer, month + 1 : month + 13]
        first_training = injuries.training_month[injuries.training_employer == employer].min()
        if month == first_training:
            assert (before == 1.0).all()
        assert len(after) == min(12, n_months - month - 1)
        assert (after == params.training_effect_rate_ratio).all()


def test_training_no_look_ahead(medium_tables: DemoTables) -> None:
    """Without a training effect, every record before an employer's first training is unchanged."""
    no_effect = dataclasses.replace(DemoParameters(), training_effect_rate_ratio=1.0)
    counterfactual = generate_demo_tables(
        employers=4000, years=6, seed=5, end_year=END_YEAR, params=no_effect
    )
    actual = medium_tables.injuries
    other = counterfactual.injuries

    np.testing.assert_array_equal(actual.base_rate, other.base_rate)
    first_month = pd.Series(actual.training_month).groupby(actual.training_employer).min()
    for employer, month in first_month.items():
        np.testing.assert_array_equal(
            actual.work_counts[employer, : month + 1], other.work_counts[employer, : month + 1]
        )
        np.testing.assert_array_equal(
            actual.expected_injuries[employer, : month + 1],
            other.expected_injuries[employer, : month + 1],
        )
    trained = np.union1d(actual.training_employer, other.training_employer)
    untrained = np.setdiff1d(np.arange(4000), trained)
    np.testing.assert_array_equal(actual.work_counts[untrained], other.work_counts[untrained])


def test_training_selection_uses_past_injuries(medium_tables: DemoTables) -> None:
    """Employers with an injury in the 12 months before are trained more often."""
    injuries = medium_tables.injuries
    # Injuries in the 12 months before each month, for every employer-month from month 12 on.
    cumulative = np.cumsum(np.pad(injuries.work_counts, ((0, 0), (1, 0))), axis=1)
    past_year = cumulative[:, 12:-1] - cumulative[:, :-13]
    trained = injuries.training_month >= 12
    employer = injuries.training_employer[trained]
    month = injuries.training_month[trained]

    share_trained = (past_year[employer, month - 12] > 0).mean()
    share_all = (past_year > 0).mean()

    assert share_trained > 1.5 * share_all


def test_hazard_findings_rise_with_frailty(medium_tables: DemoTables) -> None:
    """Employers with a higher frailty have more hazard findings per inspection year."""
    findings = medium_tables.hazard_findings
    population = medium_tables.population
    ids = medium_tables.employers["employer_id"]
    counts = findings.groupby("employer_id").size().reindex(ids, fill_value=0).to_numpy()
    high = population.frailty > np.quantile(population.frailty, 0.75)
    low = population.frailty < np.quantile(population.frailty, 0.25)

    assert counts[high].mean() > 1.5 * counts[low].mean()
    assert (medium_tables.hazards.rate_multiplier >= 1.0).all()
    assert medium_tables.hazards.rate_multiplier.max() == pytest.approx(1.5)


def test_canonical_frames_follow_contract(medium_tables: DemoTables) -> None:
    """Canonical frames have the contract's columns, dtypes and value sets."""
    incidents = medium_tables.incidents
    findings = medium_tables.hazard_findings

    assert list(incidents.columns) == [
        "incident_id", "employer_id", "occurred_on", "accident_type", "severity",
        "lost_workdays", "disability_grade", "is_commuting", "source_event_code",
    ]
    assert str(incidents["lost_workdays"].dtype) == "Int64"
    assert str(incidents["disability_grade"].dtype) == "Int64"
    assert incidents["is_commuting"].dtype == bool
    assert incidents["occurred_on"].dtype.kind == "M"
    assert incidents["accident_type"].str.fullmatch(r"\d{2}").all()
    assert incidents["incident_id"].is_unique
    assert set(findings["hazard_level"]) == {"general", "major"}
    assert findings["rectified_on"].isna().any()
    rectified = findings.dropna(subset=["rectified_on"])
    assert (rectified["rectified_on"] >= rectified["inspected_on"]).all()
    assert medium_tables.headcounts["year"].dtype == np.int64
    assert medium_tables.headcounts["hours_worked"].isna().all()
    assert medium_tables.training_records["attendees"].dtype == np.int64


def test_canonical_severity_matches_lost_workdays(medium_tables: DemoTables) -> None:
    """Clean incidents follow GB 6441: minor < 105 lost workdays, serious >= 105, fatal none."""
    incidents = medium_tables.incidents
    days = incidents["lost_workdays"]

    assert (days[incidents["severity"] == "minor"] < 105).all()
    assert (days[incidents["severity"] == "serious"] >= 105).all()
    assert days[incidents["severity"] == "fatal"].isna().all()
    assert incidents["disability_grade"].dropna().between(1, 10).all()


def test_truth_monthly_rates_match_tables(demo_dir: Path) -> None:
    """The ground-truth monthly rates equal the generator's expected workplace injuries."""
    tables = generate_demo_tables(**SMALL)
    rates = read_monthly_rates(demo_dir / "truth")
    expected = tables.injuries.expected_injuries

    assert list(rates.columns) == ["employer_id", "month", "expected_injuries"]
    assert rates["month"].dt.day.eq(1).all()
    assert rates["expected_injuries"].sum() == pytest.approx(expected.sum(), rel=1e-6)
    per_employer = rates.groupby("employer_id")["expected_injuries"].sum()
    ids = tables.employers["employer_id"]
    np.testing.assert_allclose(
        per_employer.reindex(ids).fillna(0.0), expected.sum(axis=1), rtol=1e-6
    )


def test_truth_parameters_json(demo_dir: Path) -> None:
    """parameters.json records the seed, sizes and the model parameters."""
    parameters = json.loads((demo_dir / "truth" / "parameters.json").read_text(encoding="utf-8"))

    assert parameters["seed"] == SMALL["seed"]
    assert parameters["employers"] == SMALL["employers"]
    assert parameters["last_year"] == END_YEAR
    assert parameters["training_effect_rate_ratio"] == 0.85
    assert parameters["training_effect_months"] == 12
    assert parameters["frailty_variance"] == DemoParameters().frailty_variance
    assert parameters["national_injuries_per_100"] == DemoParameters().national_injuries_per_100
    assert "accident_type_mix" in parameters["tables"]


def test_demo_tables_default_end_year() -> None:
    """Without end_year the panel ends with the last complete calendar year."""
    tables = generate_demo_tables(employers=20, years=2, seed=1)

    assert default_end_year(dt.date(2026, 1, 1)) == 2025
    assert tables.population.years[-1] == dt.date.today().year - 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"employers": 0}, "employers must be at least 1, got 0"),
        ({"years": 0}, "years must be at least 1, got 0"),
        ({"seed": -1}, "seed must be a non-negative integer, got -1"),
    ],
)
def test_demo_tables_rejects_bad_sizes(arguments: dict[str, int], message: str) -> None:
    """Sizes below 1 and negative seeds raise ValueError naming the value."""
    with pytest.raises(ValueError, match=message):
        generate_demo_tables(**{"employers": 10, "years": 1, "seed": 0, **arguments})


def test_credit_check_characters_match_reference() -> None:
    """The vectorised GB 32100 check character equals risk.credit_code.check_character."""
    rng = np.random.default_rng(0)
    alphabet = np.array(list(ALPHABET))
    first17 = np.array(["".join(row) for row in alphabet[rng.integers(0, 31, size=(200, 17))]])

    vectorised = credit_check_characters(first17)

    assert list(vectorised) == [check_character(code) for code in first17]


def test_poisson_from_uniform_moments() -> None:
    """Inverse-CDF Poisson counts have the right mean and variance, small and large means."""
    rng = np.random.default_rng(1)
    for mean in (0.01, 0.7, 12.0, 80.0):
        counts = poisson_from_uniform(rng.random(100_000), np.full(100_000, mean))
        assert counts.mean() == pytest.approx(mean, rel=0.05), mean
        assert counts.var() == pytest.approx(mean, rel=0.1), mean


def test_poisson_from_uniform_extreme_uniforms() -> None:
    """Uniforms of 0 and of the largest double below 1 give finite, non-negative counts."""
    counts = poisson_from_uniform(np.array([0.0, 1.0 - 2.0**-53]), np.array([0.3, 0.3]))

    assert counts[0] == 0
    assert 0 < counts[1] < 50


def test_unknown_employer_faults_valid_codes(demo_dir: Path) -> None:
    """An unknown-employer fault is a well-formed credit code that no employer row has."""
    faults = read_faults(demo_dir / "truth")
    unknown = faults.loc[faults["kind"] == "unknown_employer", "value"]
    employer_ids = set(_read_export(demo_dir, "employers.csv")["统一社会信用代码"])

    assert len(unknown) > 0
    for code in unknown:
        assert is_valid_credit_code(code), code
        assert code not in employer_ids, code
