"""scikit-learn transformers over the feature builders, for pipelines and notebooks.

* :class:`PointInTimeFeatures` turns (``employer_id``, ``as_of``) keys into
  feature rows. The canonical tables are a constructor parameter, so that in a
  ``Pipeline`` both ``fit`` and ``transform`` receive keys, and ``y`` (labels
  built for the same keys) lines up with them.
* :class:`PeerRateEncoder` turns a numeric matrix of a group label, counts and
  an optional exposure into leave-one-out peer rates, the computation behind
  the ``peers`` features.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from risk.features.build import build_features_prepared, check_as_of
from risk.features.catalog import DEFAULT_WINDOWS_MONTHS, check_windows, feature_specs
from risk.features.peers import group_totals, own_contribution, rate_ratio, rate_without_own
from risk.features.prepare import prepare_tables
from risk.tables import CanonicalTables


# Mixins come before BaseEstimator so that their methods take precedence in the MRO.
class PointInTimeFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Build point-in-time features for (``employer_id``, ``as_of``) keys.

    The generic estimator checks of scikit-learn do not apply, because the input
    is a frame of keys, not a numeric matrix, and the output depends on the
    tables given as a parameter.

    Parameters
    ----------
    tables : CanonicalTables, default=None
        The data the features are computed from. Required before ``fit``.
    as_of : datetime.date, default=None
        One date for every row. When None, ``X`` must have an ``as_of`` column.
    windows_months : tuple of int, default=(3, 12, 36)
        Look-back windows in months.

    Attributes
    ----------
    prepared_ : PreparedTables
        ``tables`` recoded once by :func:`risk.features.prepare_tables`.
    feature_names_out_ : ndarray of str
        Names of the output columns, in order.

    Notes
    -----
    ``fit`` raises ValueError when ``tables`` is not a CanonicalTables, and
    ``transform`` raises ValueError when ``X`` lacks a key column, names an
    unknown ``employer_id``, or has an ``as_of`` column while ``as_of`` is set.
    """

    def __init__(
        self,
        tables: CanonicalTables | None = None,
        as_of: dt.date | None = None,
        windows_months: tuple[int, ...] = DEFAULT_WINDOWS_MONTHS,
    ) -> None:
        self.tables = tables
        self.as_of = as_of
        self.windows_months = windows_months

    def fit(self, X: pd.DataFrame, y: object = None) -> PointInTimeFeatures:
        """Recode ``tables`` for fast lookups; ``X`` and ``y`` are only checked."""
        if not isinstance(self.tables, CanonicalTables):
            raise ValueError(
                f"tables must be a CanonicalTables, got {type(self.tables).__name__};"
                " pass the data set as PointInTimeFeatures(tables=...)"
            )
        windows = check_windows(self.windows_months)
        if self.as_of is not None:
            check_as_of(self.as_of)
        self._keys(X)

        self.prepared_ = prepare_tables(self.tables)
        self.feature_names_out_ = np.asarray(
            [spec.name for spec in feature_specs(windows)], dtype=object
        )
        return self

    def _keys(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return ``X``'s keys as a frame of ``employer_id`` and ``as_of`` (a date per row)."""
        if not isinstance(X, pd.DataFrame) or "employer_id" not in X.columns:
            columns = list(X.columns) if isinstance(X, pd.DataFrame) else type(X).__name__
            raise ValueError(f"X must be a DataFrame with an 'employer_id' column, got {columns!r}")
        if self.as_of is not None:
            if "as_of" in X.columns:
                raise ValueError(
                    "X has an 'as_of' column and as_of is set; pass the date one way only"
                )
            dates = pd.Series(pd.Timestamp(check_as_of(self.as_of)), index=X.index)
        elif "as_of" in X.columns:
            dates = pd.to_datetime(X["as_of"])
            if dates.isna().any():
                raise ValueError(
                    f"X has {int(dates.isna().sum())} rows without an as_of date;"
                    " every key needs one"
                )
        else:
            raise ValueError(
                f"X needs an 'as_of' column when as_of is None; it has {list(X.columns)[:5]!r}"
            )
        return pd.DataFrame({"employer_id": X["employer_id"].to_numpy(), "as_of": dates.to_numpy()})

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        """Return the features of each key row of ``X``, in ``X``'s row order and index."""
        check_is_fitted(self)
        keys = self._keys(X)
        rows = self.prepared_.employer_ids.get_indexer(keys["employer_id"])
        if (rows < 0).any():
            unknown = keys.loc[rows < 0, "employer_id"].unique().tolist()
            raise ValueError(f"X names employers that are not in tables.employers: {unknown[:5]!r}")

        windows = check_windows(self.windows_months)
        pieces: list[pd.DataFrame] = []
        positions: list[npt.NDArray[np.intp]] = []
        for stamp, group in keys.groupby("as_of", sort=True).indices.items():
            as_of = check_as_of(pd.Timestamp(stamp))
            frame = build_features_prepared(self.prepared_, as_of, windows)
            pieces.append(frame.iloc[rows[group], 2:])
            positions.append(group)
        if not pieces:
            return pd.DataFrame(columns=self.feature_names_out_, index=X.index)

        stacked = pd.concat(pieces, ignore_index=True)
        order = np.argsort(np.concatenate(positions), kind="stable")
        result = stacked.iloc[order]
        result.index = X.index
        return result

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Return the names of the feature columns that ``transform`` outputs."""
        check_is_fitted(self)
        return self.feature_names_out_.copy()


class PeerRateEncoder(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Encode rows by their group's rate of each value column, leaving each row out of its group.

    One column of ``X`` contains a group label (for example the industry division
    code), one optional column an exposure (for example insured headcount), and
    every other column a count (for example injuries). For each count column the
    output has two columns: ``<name>_peer_rate``, the group's total count over its
    total exposure without the row itself, times ``scale``, and
    ``<name>_ratio_to_peers``, the row's own rate over that peer rate. Without an
    exposure column every row has exposure 1, so the peer rate is the mean of the
    other rows of the group.

    Parameters
    ----------
    group_column : int, default=0
        Position of the group label column.
    exposure_column : int or None, default=None
        Position of the exposure column; None gives every row exposure 1.
    leave_one_out : bool, default=True
        Subtract the row's own count and exposure from its group's totals. This
        assumes ``transform`` receives the rows seen in ``fit`` (one cross-section).
        Set False to encode new rows with the fitted group totals.
    scale : float, default=1.0
        Multiplier of the rates, e.g. 100 for "per 100 workers".

    Attributes
    ----------
    groups_ : ndarray of float
        Sorted group labels seen in ``fit``.
    group_counts_ : ndarray of shape (n_groups, n_count_columns)
        Total counts of each group, from rows with a positive exposure.
    group_exposure_ : ndarray of shape (n_groups, n_count_columns)
        Total exposure of each group, from the rows that add to ``group_counts_``.
    count_columns_ : ndarray of int
        Positions of the count columns.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` had string column names.

    Notes
    -----
    A NaN group label means no group; a NaN or non-positive exposure, or a NaN
    count, keeps the row out of the totals. Rows without a group, in a group
    unseen in ``fit``, or whose group has no other exposure get NaN. ``fit``
    raises ValueError when ``X`` has no count column.
    """

    def __init__(
        self,
        group_column: int = 0,
        exposure_column: int | None = None,
        leave_one_out: bool = True,
        scale: float = 1.0,
    ) -> None:
        self.group_column = group_column
        self.exposure_column = exposure_column
        self.leave_one_out = leave_one_out
        self.scale = scale

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        return tags

    def _check_params(self) -> None:
        if not isinstance(self.leave_one_out, bool | np.bool_):
            raise ValueError(f"leave_one_out must be True or False, got {self.leave_one_out!r}")
        if (
            not isinstance(self.scale, int | float)
            or not np.isfinite(self.scale)
            or self.scale <= 0
        ):
            raise ValueError(f"scale must be a positive number, got {self.scale!r}")

    def _columns(self, n_features: int) -> tuple[int, int | None, npt.NDArray[np.intp]]:
        """Return the group, exposure and count column positions for ``n_features`` columns."""
        positions = np.arange(n_features)
        special = [self.group_column] + (
            [] if self.exposure_column is None else [self.exposure_column]
        )
        for name, value in (
            ("group_column", self.group_column),
            ("exposure_column", self.exposure_column),
        ):
            if value is not None and not -n_features <= value < n_features:
                raise ValueError(f"{name}={value!r} is outside X's {n_features} feature(s)")
        group = int(positions[self.group_column])
        exposure = None if self.exposure_column is None else int(positions[self.exposure_column])
        counts = np.setdiff1d(positions, positions[special])
        if len(counts) == 0:
            raise ValueError(
                f"X needs at least one count column besides the group and exposure columns,"
                f" got {n_features} feature(s)"
            )
        return group, exposure, counts

    def _group_codes(self, labels: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        if len(self.groups_) == 0:
            return np.full(len(labels), -1, dtype=np.int64)
        position = np.minimum(np.searchsorted(self.groups_, labels), len(self.groups_) - 1)
        found = (self.groups_[position] == labels) & ~np.isnan(labels)
        return np.where(found, position, -1).astype(np.int64)

    def _exposure(self, X: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.ones(len(X)) if self.exposure_column is None else X[:, self.exposure_column]

    def fit(self, X: Any, y: object = None) -> PeerRateEncoder:
        """Learn each group's total counts and exposure."""
        self._check_params()
        X = validate_data(self, X, reset=True, dtype=np.float64, ensure_all_finite="allow-nan")
        group, _, counts = self._columns(X.shape[1])

        labels = X[:, group]
        self.groups_ = np.unique(labels[~np.isnan(labels)])
        self.count_columns_ = counts
        codes = self._group_codes(labels)
        exposure = self._exposure(X)
        totals = [
            group_totals(codes, X[:, column], exposure, len(self.groups_)) for column in counts
        ]
        self.group_counts_ = np.column_stack([count for count, _ in totals])
        self.group_exposure_ = np.column_stack([exposure_sum for _, exposure_sum in totals])
        return self

    def transform(self, X: Any) -> npt.NDArray[np.float64]:
        """Return the peer rate and the ratio to peers of every count column, per row."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite="allow-nan")
        group, _, _ = self._columns(X.shape[1])

        codes = self._group_codes(X[:, group])
        exposure = self._exposure(X)
        outputs = []
        for position, column in enumerate(self.count_columns_):
            counts = X[:, column]
            own_count, own_exposure = own_contribution(codes, counts, exposure)
            if not self.leave_one_out:
                own_count, own_exposure = np.zeros_like(own_count), np.zeros_like(own_exposure)
            peer_rate = self.scale * rate_without_own(
                codes,
                own_count,
                own_exposure,
                self.group_counts_[:, position],
                self.group_exposure_[:, position],
            )
            with np.errstate(divide="ignore", invalid="ignore"):
                own_rate = np.where(exposure > 0, self.scale * counts / exposure, np.nan)
            outputs += [peer_rate, rate_ratio(own_rate, peer_rate)]
        return np.column_stack(outputs)

    def get_feature_names_out(self, input_features: Any = None) -> npt.NDArray[np.object_]:
        """Return ``<column>_peer_rate`` and ``<column>_ratio_to_peers`` for each count column."""
        check_is_fitted(self)
        if input_features is None:
            input_features = getattr(self, "feature_names_in_", None)
        if input_features is None:
            input_features = [f"x{i}" for i in range(self.n_features_in_)]
        if len(input_features) != self.n_features_in_:
            raise ValueError(
                f"input_features should have {self.n_features_in_} names, got {len(input_features)}"
            )
        names = []
        for column in self.count_columns_:
            names += [
                f"{input_features[column]}_peer_rate",
                f"{input_features[column]}_ratio_to_peers",
            ]
        return np.asarray(names, dtype=object)
