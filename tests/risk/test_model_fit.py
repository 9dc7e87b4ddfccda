"""Fitting the risk model: time slices, calibration, categories and input casting."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from model_factories import FEATURES, make_panel

from risk.errors import ModelError
from risk.model.exposure import CountOffset
from risk.model.metrics import roc_auc
from risk.model.slices import split_time_slices
from risk.model.xgb import RiskModel, XGBParams, fit_risk_model

FAST = XGBParams(n_estimators=300, learning_rate=0.1, early_stopping_rounds=30, n_jobs=1)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    """A signal panel of 1,200 employers over 8 quarterly as-of dates."""
    return make_panel(n_employers=1200, n_dates=8, seed=11)


@pytest.fixture(scope="module")
def model(panel: pd.DataFrame) -> RiskModel:
    """The model fitted on every as-of date but the last, which is kept for scoring."""
    train = panel[panel["as_of"] < panel["as_of"].max()]
    return fit_risk_model(train, feature_names=FEATURES, params=FAST)


def test_split_time_slices_purges_overlapping_dates() -> None:
    """Fit dates end their outcome window by the latest date, which stops and calibrates."""
    dates = pd.Series(pd.date_range("2019-12-31", periods=7, freq="QE-DEC")).sample(
        frac=1, random_state=0
    )

    slices = split_time_slices(dates, horizon_days=365)

    assert slices.fit_as_of == (dt.date(2019, 12, 31), dt.date(2020, 3, 31), dt.date(2020, 6, 30))
    assert slices.purged_as_of == (
        dt.date(2020, 9, 30),
        dt.date(2020, 12, 31),
        dt.date(2021, 3, 31),
    )
    assert slices.early_stopping_as_of == dt.date(2021, 6, 30)
    assert slices.calibration_as_of == dt.date(2021, 6, 30)


def test_split_time_slices_short_history_rejected() -> None:
    """Four quarters cannot hold a fit date a whole horizon before the latest date."""
    dates = pd.Series(pd.date_range("2020-03-31", periods=4, freq="QE-DEC"))

    with pytest.raises(ModelError, match="365-day outcome window ends by the latest date"):
        split_time_slices(dates, horizon_days=365)


def test_fit_risk_model_records_slices_and_calibration(
    model: RiskModel, panel: pd.DataFrame
) -> None:
    """The summary names the slices, and the calibration choice compares both methods."""
    summary = model.summary

    assert summary.slices.calibration_as_of == dt.date(2020, 6, 30)
    assert summary.slices.early_stopping_as_of == dt.date(2020, 6, 30)
    assert summary.n_rows == {"fit": 3600, "early_stopping": 1200, "calibration": 1200}
    assert model.calibration.method in ("isotonic", "sigmoid")
    assert set(model.calibration.brier) == {"isotonic", "sigmoid"}
    chosen = model.calibration.brier[model.calibration.method]
    assert chosen == min(model.calibration.brier.values())
    assert len(summary.fingerprint) == 64


def test_fit_risk_model_learns_signal(model: RiskModel, panel: pd.DataFrame) -> None:
    """On the held-out last date the model ranks well and its probabilities sit in [0, 1]."""
    test = panel[panel["as_of"] == panel["as_of"].max()]

    predicted = model.predict(test)

    assert roc_auc(test["injury_any"], predicted["uncalibrated_score"]) > 0.75
    assert predicted["risk_score"].between(0, 1).all()
    assert (predicted["expected_injuries"] >= 0).all()
    assert (predicted["unknown_categories"] == "").all()


def test_predict_unseen_category_scored_as_missing(model: RiskModel, panel: pd.DataFrame) -> None:
    """An unseen district scores exactly as a missing district and is flagged."""
    rows = panel[panel["as_of"] == panel["as_of"].max()].head(20)
    unseen = rows.assign(district_code="999999")
    missing = rows.assign(district_code=pd.Series(None, index=rows.index, dtype="object"))

    scored_unseen = model.predict(unseen)
    scored_missing = model.predict(missing)

    np.testing.assert_allclose(
        scored_unseen["risk_score"], scored_missing["risk_score"], rtol=1e-12
    )
    np.testing.assert_allclose(
        scored_unseen["expected_injuries"], scored_missing["expected_injuries"], rtol=1e-12
    )
    assert (scored_unseen["unknown_categories"] == "district_code").all()
    assert (scored_missing["unknown_categories"] == "").all()


def test_predict_chinese_categories_from_plain_strings(
    model: RiskModel, panel: pd.DataFrame
) -> None:
    """Chinese labels arrive as plain text and keep their training codes."""
    rows = panel[panel["as_of"] == panel["as_of"].max()].head(50)
    as_text = rows.assign(
        ownership=rows["ownership"].astype(str), district_code=rows["district_code"].astype(str)
    )

    np.testing.assert_allclose(
        model.predict(as_text)["risk_score"], model.predict(rows)["risk_score"], rtol=1e-12
    )
    assert model.schema.categories["ownership"] == ("国有", "民营", "外资")


def test_predict_uses_chinese_category(model: RiskModel, panel: pd.DataFrame) -> None:
    """Private (民营) employers carry a higher true rate, and the model scores them higher."""
    rows = panel[panel["as_of"] == panel["as_of"].max()].head(200)

    state_owned = model.predict(rows.assign(ownership="国有"))["expected_injuries"]
    private = model.predict(rows.assign(ownership="民营"))["expected_injuries"]

    assert private.mean() > state_owned.mean()


def test_predict_missing_feature_rejected(model: RiskModel, panel: pd.DataFrame) -> None:
    """A frame without a training feature is rejected, naming the feature."""
    rows = panel.head(5).drop(columns=["incident_count_12m"])

    with pytest.raises(ModelError, match="incident_count_12m"):
        model.predict(rows)


def test_predict_text_in_numeric_feature_rejected(model: RiskModel, panel: pd.DataFrame) -> None:
    """Text in a numeric feature is an error, not a silent missing value."""
    rows = panel.head(3).assign(insured_headcount=["12", "abc", None])

    with pytest.raises(ModelError, match="insured_headcount.*'abc'"):
        model.predict(rows)


def test_fit_risk_model_single_class_calibration_rejected() -> None:
    """A calibration slice without any injury cannot calibrate."""
    panel = make_panel(n_employers=200, n_dates=7, seed=3)
    last = panel["as_of"] == panel["as_of"].max()
    panel.loc[last, ["injury_any", "injury_count"]] = 0

    with pytest.raises(ModelError, match="only one outcome class"):
        fit_risk_model(panel, feature_names=FEATURES, params=FAST)


def test_fit_risk_model_repeated_key_rejected() -> None:
    """Two rows of the same employer and as-of date are rejected."""
    panel = make_panel(n_employers=50, n_dates=3, seed=3)
    doubled = pd.concat([panel, panel.head(1)], ignore_index=True)

    with pytest.raises(ModelError, match="repeats"):
        fit_risk_model(doubled, feature_names=FEATURES, params=FAST)


def test_count_offset_margin_fills_missing_and_zero() -> None:
    """The offset is log(headcount × rate); zero counts as 1 and missing takes the median."""
    fit_rows = pd.DataFrame({"insured_headcount": [10.0, 30.0, None, 50.0]})

    offset = CountOffset.fit(fit_rows, [1, 2, 0, 3], "insured_headcount")
    margin = offset.margin(pd.DataFrame({"insured_headcount": [20.0, 0.0, None]}))

    # Exposure is 10 + 30 + 30 (the median fills the gap) + 50 = 120 workers for 6 injuries.
    assert offset.fill_headcount == 30.0
    assert offset.rate_per_worker == pytest.approx(6 / 120)
    np.testing.assert_allclose(margin, np.log([20 * 0.05, 1 * 0.05, 30 * 0.05]))


def test_fit_risk_model_count_offset_recorded(model: RiskModel) -> None:
    """The count model starts from the headcount offset, and its scale stays near 1."""
    assert model.count_offset is not None
    assert model.count_offset.feature == "insured_headcount"
    assert 0.5 < model.summary.count_scale < 2.0


def test_fit_risk_model_without_offset(panel: pd.DataFrame) -> None:
    """Without an exposure feature the count model fits with no offset."""
    model = fit_risk_model(panel, feature_names=FEATURES, params=FAST, exposure_feature=None)

    assert model.count_offset is None
    assert (model.predict(panel.head(20))["expected_injuries"] > 0).all()
