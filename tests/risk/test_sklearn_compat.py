"""scikit-learn API checks of the feature transformers."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from factories import EMPLOYER_A, EMPLOYER_B, EMPLOYER_C, make_random_tables, make_tables
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

from risk.features import FEATURE_NAMES, PeerRateEncoder, PointInTimeFeatures, build_features
from risk.features.peers import leave_one_out_rate
from risk.labels import as_of_grid
from risk.panel import build_panel

AS_OF = dt.date(2024, 3, 31)


# The generic checks feed matrices of one or two columns, so the variants checked here take no
# exposure column. The tests below cover the exposure column directly.
@parametrize_with_checks(
    [PeerRateEncoder(), PeerRateEncoder(group_column=1, leave_one_out=False, scale=100.0)]
)
def test_peer_rate_encoder_sklearn_checks(estimator: PeerRateEncoder, check: object) -> None:
    """PeerRateEncoder takes a plain numeric matrix, so the generic estimator checks apply."""
    check(estimator)  # type: ignore[operator]


def test_peer_rate_encoder_matches_leave_one_out() -> None:
    """The encoder gives the same peer rates as the feature code, times its scale."""
    groups = np.array([3.0, 3.0, 3.0, 7.0, 7.0])
    counts = np.array([2.0, 1.0, 0.0, 5.0, 3.0])
    exposure = np.array([100.0, 50.0, 50.0, 10.0, 30.0])
    X = pd.DataFrame({"division": groups, "injuries": counts, "headcount": exposure})

    encoder = PeerRateEncoder(exposure_column=2, scale=100.0)
    encoded = encoder.fit_transform(X)

    expected = 100 * leave_one_out_rate(np.array([0, 0, 0, 1, 1]), counts, exposure)
    np.testing.assert_allclose(encoded[:, 0], expected)
    np.testing.assert_allclose(encoded[:, 1], 100 * counts / exposure / expected)
    assert list(encoder.get_feature_names_out()) == [
        "injuries_peer_rate",
        "injuries_ratio_to_peers",
    ]


def test_peer_rate_encoder_without_exposure_is_peer_mean() -> None:
    """Without an exposure column the peer rate is the mean of the group's other rows."""
    X = np.array([[1.0, 2.0, 10.0], [1.0, 4.0, 20.0], [1.0, 6.0, 30.0]])

    encoded = PeerRateEncoder().fit_transform(X)

    np.testing.assert_allclose(encoded[:, 0], [5.0, 4.0, 3.0])
    np.testing.assert_allclose(encoded[:, 2], [25.0, 20.0, 15.0])


def test_peer_rate_encoder_unseen_group_is_missing() -> None:
    """A group not seen in fit encodes as NaN."""
    encoder = PeerRateEncoder(exposure_column=2, leave_one_out=False).fit(
        np.array([[1.0, 2.0, 10.0], [1.0, 0.0, 10.0]])
    )

    encoded = encoder.transform(np.array([[1.0, 0.0, 5.0], [2.0, 1.0, 5.0]]))

    assert encoded[0, 0] == pytest.approx(0.1)
    assert np.isnan(encoded[1]).all()


def test_peer_rate_encoder_needs_a_count_column() -> None:
    """X with only group and exposure columns has nothing to encode."""
    with pytest.raises(
        ValueError, match="at least one count column besides the group and exposure columns"
    ):
        PeerRateEncoder(exposure_column=1).fit(np.ones((4, 2)))
    with pytest.raises(ValueError, match="exposure_column=5 is outside X's 2 feature"):
        PeerRateEncoder(exposure_column=5).fit(np.ones((4, 2)))


# PointInTimeFeatures reads a frame of (employer_id, as_of) keys and the tables given as a
# parameter, not a numeric matrix, so parametrize_with_checks cannot feed it. The tests
# below cover fit, transform, feature names, set_output, clone and Pipeline use directly.


def _keys(tables_dates: list[tuple[str, dt.date]]) -> pd.DataFrame:
    return pd.DataFrame(tables_dates, columns=["employer_id", "as_of"])


def test_point_in_time_features_transform_matches_build_features() -> None:
    """Rows come back in key order, equal to build_features at each row's as_of."""
    tables = make_tables(incidents=[{"occurred_on": "2023-11-01"}, {"occurred_on": "2022-01-01"}])
    earlier = dt.date(2022, 12, 31)
    keys = _keys([(EMPLOYER_B, AS_OF), (EMPLOYER_A, earlier), (EMPLOYER_A, AS_OF)])
    keys.index = pd.Index([10, 20, 30])

    transformer = PointInTimeFeatures(tables=tables).fit(keys)
    features = transformer.transform(keys)

    assert features.index.tolist() == [10, 20, 30]
    assert list(features.columns) == list(FEATURE_NAMES)
    assert list(transformer.get_feature_names_out()) == list(FEATURE_NAMES)
    for position, (employer_id, as_of) in enumerate(keys.itertuples(index=False)):
        expected = (
            build_features(tables, as_of)
            .set_index("employer_id")
            .loc[employer_id, list(FEATURE_NAMES)]
        )
        pd.testing.assert_series_equal(features.iloc[position], expected, check_names=False)


def test_point_in_time_features_as_of_parameter() -> None:
    """With as_of set, X needs only employer_id; an as_of column as well is an error."""
    tables = make_tables(incidents=[{"occurred_on": "2024-01-01"}])
    transformer = PointInTimeFeatures(tables=tables, as_of=AS_OF)
    keys = pd.DataFrame({"employer_id": [EMPLOYER_A, EMPLOYER_C]})

    features = transformer.fit_transform(keys)

    assert features["incident_count_12m"].tolist() == [1.0, 0.0]
    with pytest.raises(ValueError, match="pass the date one way only"):
        transformer.transform(_keys([(EMPLOYER_A, AS_OF)]))


def test_point_in_time_features_set_output_and_clone() -> None:
    """set_output(transform="pandas") keeps the frame; clone copies parameters, not fitted state."""
    tables = make_tables()
    transformer = PointInTimeFeatures(tables=tables, windows_months=(12,)).set_output(
        transform="pandas"
    )
    keys = _keys([(EMPLOYER_A, AS_OF)])

    features = transformer.fit(keys).transform(keys)
    cloned = clone(transformer)

    assert isinstance(features, pd.DataFrame)
    assert "incident_count_12m" in features.columns
    assert "incident_count_3m" not in features.columns
    assert cloned.get_params()["windows_months"] == (12,)
    assert not hasattr(cloned, "prepared_")


def test_point_in_time_features_errors() -> None:
    """Missing tables, unfitted use and unknown employers raise with a clear message."""
    keys = _keys([(EMPLOYER_A, AS_OF)])

    with pytest.raises(ValueError, match="tables must be a CanonicalTables, got NoneType"):
        PointInTimeFeatures().fit(keys)
    with pytest.raises(Exception, match="not fitted yet"):
        PointInTimeFeatures(tables=make_tables()).transform(keys)
    fitted = PointInTimeFeatures(tables=make_tables()).fit(keys)
    with pytest.raises(ValueError, match="not in tables.employers: \\['X1'\\]"):
        fitted.transform(_keys([("X1", AS_OF)]))
    with pytest.raises(ValueError, match="windows_months must be a non-empty tuple"):
        PointInTimeFeatures(tables=make_tables(), windows_months=(0,)).fit(keys)


def test_point_in_time_features_in_pipeline() -> None:
    """In a Pipeline, keys go in and a classifier fits on the features and labels."""
    tables = make_random_tables(n_employers=120, n_incidents=1500)
    # Late dates, so that every feature has some values (early ones lack headcount growth).
    panel = build_panel(tables, as_of_grid(tables)[-4:])
    keys, y = panel[["employer_id", "as_of"]], panel["injury_any"]
    pipeline = Pipeline(
        [
            ("features", PointInTimeFeatures(tables=tables)),
            (
                "model",
                HistGradientBoostingClassifier(max_iter=20, categorical_features="from_dtype"),
            ),
        ]
    ).set_output(transform="pandas")

    pipeline.fit(keys, y)
    risk_score = pipeline.predict_proba(keys)[:, 1]

    assert risk_score.shape == (len(keys),)
    assert ((risk_score >= 0) & (risk_score <= 1)).all()
    assert list(pipeline[:-1].get_feature_names_out()) == list(FEATURE_NAMES)
