"""Exposure offset of the Poisson count model.

Expected injuries grow almost in proportion to the number of insured workers,
a smooth multiplicative effect that trees can only approximate with many
steps. The count model therefore starts every row from

    log(headcount × overall injury rate per insured worker)

passed to XGBoost as ``base_margin``, and its trees learn how each employer's
rate per worker differs from the overall rate. A headcount below 1 counts
as 1. A missing headcount (no complete year reported yet) takes the median
headcount of the training rows. The trees still see the raw headcount, so they
can correct both choices.

The classifier has no offset: SHAP contributions explain its margin, and an
offset would be a part of the margin that no feature explains.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

EXPOSURE_FEATURE = "insured_headcount"


@dataclass(frozen=True)
class CountOffset:
    """The exposure offset learned from the fit rows.

    Attributes
    ----------
    feature : str
        Feature holding the insured headcount.
    rate_per_worker : float
        Injuries per insured worker over the fit rows, the level of the offset.
    fill_headcount : float
        Headcount used where the feature is missing: the median of the fit rows.
    """

    feature: str
    rate_per_worker: float
    fill_headcount: float

    @classmethod
    def fit(cls, features: pd.DataFrame, counts: npt.ArrayLike, feature: str) -> CountOffset:
        """Learn the overall rate per worker and the fill value from the fit rows."""
        headcount = pd.to_numeric(features[feature], errors="coerce").astype(np.float64)
        known = headcount.notna().to_numpy()
        fill = float(headcount[known].median()) if known.any() else 1.0
        exposure = np.maximum(headcount.fillna(fill).to_numpy(), 1.0)
        injuries = float(np.sum(np.asarray(counts, dtype=np.float64)))
        # An injury-free fit slice would make the offset minus infinity, so the
        # rate is floored at one injury per fit slice.
        rate = max(injuries, 1.0) / float(exposure.sum())
        return cls(feature=feature, rate_per_worker=rate, fill_headcount=max(fill, 1.0))

    def margin(self, features: pd.DataFrame) -> npt.NDArray[np.float64]:
        """Return ``log(headcount × rate_per_worker)`` per row: the count model's base margin."""
        headcount = pd.to_numeric(features[self.feature], errors="coerce").astype(np.float64)
        exposure = np.maximum(headcount.fillna(self.fill_headcount).to_numpy(), 1.0)
        return np.log(exposure * self.rate_per_worker)

    def to_dict(self) -> dict[str, Any]:
        """Return the offset as plain JSON types."""
        return asdict(self)
