"""TreeSHAP contributions, the categorical casting before XGBoost, and reasons."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import xgboost as xgb
from api_factories import TEST_PARAMS, Fitted

from risk.errors import ModelError
from risk.explain import (
    encode_matrix,
    explain_margin,
    explain_reasons,
    feature_context,
    peer_key,
    predict_margin,
)
from risk.features.build import build_features
from risk.model.xgb import fit_risk_model
from risk.scoring import _feature_meta, explained_booster, mask_unknown_categories


def _features(fitted: Fitted, rows: int = 200) -> pd.DataFrame:
    return build_features(fitted.tables, fitted.as_of).head(rows)


def _shap_values(booster: xgb.Booster, frame: pd.DataFrame) -> tuple[np.ndarray, float]:
    # shap 0.51 imports matplotlib colour maps that emit a PendingDeprecationWarning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import shap

    explainer = shap.TreeExplainer(booster)
    values = explainer.shap_values(xgb.DMatrix(frame, enable_categorical=True))
    return np.asarray(values), float(explainer.expected_value)


def test_explain_margin_matches_shap_tree_explainer(fitted: Fitted) -> None:
    """Contributions agree with shap.TreeExplainer on a sample to 1e-4."""
    prepared = fitted.model.prepare(_features(fitted)).frame
    booster = explained_booster(fitted.model)
    ours = explain_margin(booster, encode_matrix(prepared))
    theirs, expected_value = _shap_values(booster, prepared)

    assert ours.contributions.shape == theirs.shape
    assert np.abs(ours.contributions - theirs).max() <= 1e-4
    assert abs(ours.base_value - expected_value) <= 1e-4


def test_explain_margin_adds_up_to_classifier_margin(fitted: Fitted) -> None:
    """base_value + contributions equals the sklearn wrapper's margin on every row."""
    features = _features(fitted)
    prepared = fitted.model.prepare(features).frame
    explanation = explain_margin(explained_booster(fitted.model), encode_matrix(prepared))
    wrapper_margin = fitted.model.classifier.predict(prepared, output_margin=True)

    total = explanation.base_value + explanation.contributions.sum(axis=1, dtype=np.float64)
    assert np.abs(total - explanation.margin).max() <= 1e-4
    assert np.abs(explanation.margin - wrapper_margin).max() <= 1e-4


def test_explain_margin_wrong_width_raises(fitted: Fitted) -> None:
    """A matrix with a column too few is rejected before XGBoost reads it."""
    prepared = fitted.model.prepare(_features(fitted, 5)).frame
    matrix = encode_matrix(prepared)[:, :-1]

    with pytest.raises(ModelError, match="must have .* columns"):
        explain_margin(explained_booster(fitted.model), matrix)


def test_encode_matrix_reordered_categories_same_margin(fitted: Fitted) -> None:
    """Input whose categories are ordered unlike training scores the same after prepare."""
    features = _features(fitted, 50)
    shuffled = features.copy()
    reordered = list(reversed(shuffled["district_code"].cat.categories))
    shuffled["district_code"] = shuffled["district_code"].cat.reorder_categories(reordered)
    booster = explained_booster(fitted.model)

    original = predict_margin(booster, encode_matrix(fitted.model.prepare(features).frame))
    recast = predict_margin(booster, encode_matrix(fitted.model.prepare(shuffled).frame))
    np.testing.assert_allclose(recast, original, atol=1e-6)


def test_encode_matrix_unknown_category_scored_as_missing(fitted: Fitted) -> None:
    """An unseen district is flagged and scored exactly like a missing district."""
    features = _features(fitted, 3).astype({"district_code": "object"})
    unseen = features.assign(district_code="330999")
    missing = features.assign(district_code=None)
    booster = explained_booster(fitted.model)

    masked, flags = mask_unknown_categories(unseen, fitted.model.schema.categories)
    prepared_unseen = fitted.model.prepare(masked)
    prepared_missing = fitted.model.prepare(missing)

    assert flags.tolist() == ["district_code"] * 3
    column = list(prepared_unseen.frame.columns).index("district_code")
    assert np.isnan(encode_matrix(prepared_unseen.frame)[:, column]).all()
    np.testing.assert_allclose(
        predict_margin(booster, encode_matrix(prepared_unseen.frame)),
        predict_margin(booster, encode_matrix(prepared_missing.frame)),
    )


def test_explain_margin_non_ascii_categories(fitted: Fitted) -> None:
    """Chinese category labels, seen and unseen, are explained without error."""
    features = build_features(fitted.tables, fitted.as_of)
    rng = np.random.default_rng(3)
    panel = pd.concat(
        [
            features.assign(as_of=pd.Timestamp(day))
            for day in ("2022-12-31", "2023-06-30", "2023-12-31")
        ],
        ignore_index=True,
    )
    panel["ownership"] = pd.Categorical(rng.choice(["国有", "民营", "外资"], len(panel)))
    panel["injury_count"] = rng.poisson(0.3 + 0.5 * (panel["ownership"] == "民营"))
    panel["injury_any"] = (panel["injury_count"] > 0).astype(int)
    model = fit_risk_model(panel, params=TEST_PARAMS)

    scored = features.head(4).assign(ownership=["国有", "民营", "集体", None])
    masked, flags = mask_unknown_categories(scored, model.schema.categories)
    prepared = model.prepare(masked)
    explanation = explain_margin(explained_booster(model), encode_matrix(prepared.frame))

    assert flags.tolist() == ["", "", "ownership", ""]
    assert np.isfinite(explanation.contributions).all()


def test_explain_reasons_state_own_and_peer_values(fitted: Fitted) -> None:
    """Reasons name the employer's value and its peer mean, in Chinese and English."""
    scores = fitted.scores
    context = feature_context(scores.feature_names, _feature_meta(fitted.model), scores.peer_means)
    row = int(np.argmax(scores.scores["risk_score"].to_numpy()))
    key = peer_key(
        scores.scores["industry_section"].iloc[row], scores.scores["size_band"].iloc[row]
    )

    reasons = explain_reasons(
        context, scores.explanation.contributions[row], scores.feature_values[row], key
    )

    assert 1 <= len(reasons) <= 3
    numeric = [reason for reason in reasons if reason.peer_value is not None]
    assert numeric, "the riskiest employer should have a numeric reason with a peer value"
    reason = numeric[0]
    assert "同行业同规模单位平均为" in reason.text_zh
    assert "on average for employers of the same industry and size" in reason.text_en
    assert reason.own_value is not None
