"""Industry and district features: fixed attributes of the employer."""

from __future__ import annotations

import pandas as pd

from risk.features.catalog import category_levels
from risk.features.prepare import PreparedTables


def profile_features(prepared: PreparedTables) -> dict[str, pd.Categorical | object]:
    """Return the industry section, division and district as categoricals, and the risk class.

    Categories come from the code lists, not from the data, so every frame has
    the same ones; a code outside the lists is missing.
    """
    levels = category_levels()
    features: dict[str, pd.Categorical | object] = {
        name: pd.Categorical.from_codes(prepared.category_codes[name], categories=levels[name])
        for name in ("industry_section", "industry_division")
    }
    features["industry_risk_class"] = prepared.risk_class.copy()
    features["district_code"] = pd.Categorical.from_codes(
        prepared.category_codes["district_code"], categories=levels["district_code"]
    )
    return features
