"""Employer endpoints, the ranked list, the model endpoint and problem details, over HTTP."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from api_factories import (
    SCOPE_DISTRICT,
    Fitted,
    Registry,
    ScoredStore,
    running_server,
    service_settings,
)

import api
from api.main import create_app
from api.schemas import ExplanationPublic, RiskScorePublic

ADMIN = "admin"


def _get(client: httpx.Client, keys: dict[str, str], path: str, **kwargs: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {keys[ADMIN]}", **kwargs.pop("headers", {})}
    return client.get(path, headers=headers, **kwargs)


def strict_json(response: httpx.Response) -> Any:
    """Parse the body, failing on NaN or Infinity, which are not JSON."""

    def reject(constant: str) -> None:
        raise AssertionError(f"response body contains {constant}")

    return json.loads(response.text, parse_constant=reject)


def _employer(fitted: Fitted, rank: int = 1) -> str:
    scores = fitted.scores.scores
    return str(scores.loc[scores["risk_rank"] == rank, "employer_id"].iloc[0])


def test_read_risk_names_version_and_as_of(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """The risk endpoint returns the stored score, band, percentiles and stamp."""
    employer_id = _employer(fitted)
    stored = fitted.scores.scores.set_index("employer_id").loc[employer_id]

    response = _get(client, keys, f"/v1/employers/{employer_id}/risk")

    assert response.status_code == 200
    body = strict_json(response)
    assert body["model_version"] == "1"
    assert body["as_of"] == fitted.as_of.isoformat()
    assert body["risk_score"] == pytest.approx(float(stored["risk_score"]))
    assert body["risk_band"] == stored["risk_band"]
    assert body["risk_band_label"] in {"重大风险", "较大风险", "一般风险", "低风险"}
    assert body["risk_rank"] == 1
    assert body["industry_percentile"] == 100.0
    assert body["unknown_categories"] == []


def test_read_explanation_contributions_add_up(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """base_value plus every contribution equals the margin, and every feature is listed."""
    response = _get(client, keys, f"/v1/employers/{_employer(fitted, 5)}/explanation")

    assert response.status_code == 200
    body = strict_json(response)
    contributions = [item["contribution"] for item in body["contributions"]]
    assert len(contributions) == len(fitted.model.feature_names)
    assert body["base_value"] + sum(contributions) == pytest.approx(body["margin"], abs=1e-4)
    assert contributions == sorted(contributions, key=abs, reverse=True)
    assert body["output_space"] == "log_odds"
    assert "对数几率" in body["note"]
    assert 1 <= len(body["reasons"]) <= 3
    assert all(reason["text"] == reason["text_zh"] for reason in body["reasons"])


def test_read_explanation_english_reasons(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """With Accept-Language: en, labels, band and reasons are in English."""
    response = _get(
        client,
        keys,
        f"/v1/employers/{_employer(fitted)}/explanation",
        headers={"Accept-Language": "en"},
    )

    body = strict_json(response)
    assert body["risk_band_label"] in {"major risk", "high risk", "moderate risk", "low risk"}
    assert all(reason["text"] == reason["text_en"] for reason in body["reasons"])
    assert "log-odds" in body["note"]


def test_read_explanation_matches_stored_arrays(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """Served contributions are the batch's float32 contributions of that employer."""
    employer_id = _employer(fitted, 3)
    row = int(np.flatnonzero(fitted.scores.scores["employer_id"].to_numpy() == employer_id)[0])
    expected = dict(
        zip(
            fitted.scores.feature_names,
            fitted.scores.explanation.contributions[row].tolist(),
            strict=True,
        )
    )

    body = strict_json(_get(client, keys, f"/v1/employers/{employer_id}/explanation"))

    served = {item["feature_name"]: item["contribution"] for item in body["contributions"]}
    assert served == pytest.approx(expected, abs=1e-6)


def test_read_history_lists_records_and_past_scores(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """The history endpoint returns the employer's records and its score of the run."""
    employer_id = _employer(fitted)
    incidents = fitted.tables.incidents
    expected_incidents = int((incidents["employer_id"] == employer_id).sum())

    body = strict_json(_get(client, keys, f"/v1/employers/{employer_id}/history"))

    assert len(body["incidents"]) == expected_incidents
    assert body["past_scores"][0]["as_of"] == fitted.as_of.isoformat()
    assert body["past_scores"][0]["risk_rank"] == 1
    assert "name" not in body["incidents"][0] if body["incidents"] else True
    assert body["model_version"] == "1"


def _employer_with_open_hazards(fitted: Fitted) -> str:
    findings = fitted.tables.hazard_findings
    open_ids = findings.loc[findings["rectified_on"].isna(), "employer_id"]
    ranked = fitted.scores.scores.sort_values("risk_rank")
    return str(ranked.loc[ranked["employer_id"].isin(open_ids), "employer_id"].iloc[0])


def test_create_what_if_rectified_hazards(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """Rectifying every open hazard zeroes the open-hazard features and rescoring them."""
    employer_id = _employer_with_open_hazards(fitted)
    stored = fitted.scores.scores.set_index("employer_id").loc[employer_id]

    response = client.post(
        f"/v1/employers/{employer_id}/what-if",
        json={"rectify_open_hazards": True},
        headers={"Authorization": f"Bearer {keys[ADMIN]}"},
    )

    assert response.status_code == 200
    body = strict_json(response)
    assert body["baseline"]["risk_score"] == pytest.approx(float(stored["risk_score"]), abs=1e-9)
    changed = {change["feature_name"]: change["after"] for change in body["changes"]}
    assert changed, "the employer has open hazards, so the scenario must change features"
    assert set(changed) <= {
        "open_general_hazard_count",
        "open_major_hazard_count",
        "overdue_hazard_count_90d",
    }
    assert all(value == 0.0 for value in changed.values())


def test_create_what_if_unknown_category_flagged(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """A district the model never saw is scored as missing and flagged."""
    response = client.post(
        f"/v1/employers/{_employer(fitted)}/what-if",
        json={"feature_values": {"district_code": "330999"}},
        headers={"Authorization": f"Bearer {keys[ADMIN]}"},
    )

    assert response.status_code == 200
    assert strict_json(response)["unknown_categories"] == ["district_code"]


def test_create_what_if_unknown_feature_422(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """A feature the model lacks is rejected with a problem detail naming it."""
    response = client.post(
        f"/v1/employers/{_employer(fitted)}/what-if",
        json={"feature_values": {"no_such_feature": 1}},
        headers={"Authorization": f"Bearer {keys[ADMIN]}", "Accept-Language": "en"},
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert (
        response.json()["detail"]
        == "Invalid what-if input: no_such_feature: the model has no such feature"
    )


def test_read_risk_unknown_employer_404_chinese(client: httpx.Client, keys: dict[str, str]) -> None:
    """An unknown employer gets a 404 problem detail in Chinese by default."""
    response = _get(client, keys, "/v1/employers/91330100999999999X/risk")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-language"] == "zh-CN"
    body = response.json()
    assert body["type"] == "urn:injury-risk:problem:employer-not-found"
    assert body["status"] == 404
    assert body["instance"] == "/v1/employers/91330100999999999X/risk"
    assert body["detail"] == (
        "未找到用人单位 91330100999999999X：该编号不存在、尚无评分，或不在本密钥可访问的区县内。"
    )


def test_read_explanation_unknown_employer_404_english(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    """With Accept-Language: en the 404 detail is in English."""
    response = _get(
        client,
        keys,
        "/v1/employers/91330100999999999X/explanation",
        headers={"Accept-Language": "en"},
    )

    assert response.status_code == 404
    assert response.json()["title"] == "Employer not found"
    assert response.json()["detail"] == (
        "Employer not found: '91330100999999999X' does not exist, has no score yet,"
        " or is outside the districts this key may read."
    )


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/v1/risk?limit=0", "query.limit"),
        ("/v1/risk?limit=501", "query.limit"),
        ("/v1/risk?band=purple", "query.band"),
        ("/v1/risk?district=3301", "query.district"),
        ("/v1/risk?industry=C3", "query.industry"),
        ("/v1/employers/bad%20id!/risk", "path.employer_id"),
    ],
)
def test_invalid_parameters_422_problem(
    path: str, location: str, client: httpx.Client, keys: dict[str, str]
) -> None:
    """Invalid parameters give a 422 problem detail naming the parameter."""
    response = _get(client, keys, path)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == f"请求参数无效（1 处）：{location}。请按接口文档（/docs）修正后重试。"
    assert [".".join(error["loc"]) for error in body["errors"]] == [location]


def test_read_risk_list_ranked_filtered_paginated(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """The ranked list is ordered by rank, filtered, and paginated without overlap."""
    district = "330102"
    expected = fitted.scores.scores.query("district_code == @district").sort_values("risk_rank")

    first = strict_json(_get(client, keys, "/v1/risk", params={"district": district, "limit": 10}))
    second = strict_json(
        _get(client, keys, "/v1/risk", params={"district": district, "limit": 10, "offset": 10})
    )

    assert first["total"] == len(expected)
    ids = [row["employer_id"] for row in first["data"] + second["data"]]
    assert ids == expected["employer_id"].head(20).tolist()
    assert first["model_version"] == "1"


@pytest.mark.parametrize("band", ["red", "orange", "yellow", "blue"])
def test_read_risk_list_band_filter(
    band: str, client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """Filtering by band returns exactly that band's employers."""
    body = strict_json(_get(client, keys, "/v1/risk", params={"band": band, "limit": 500}))

    assert body["total"] == int((fitted.scores.scores["risk_band"] == band).sum())
    assert {row["risk_band"] for row in body["data"]} <= {band}


def test_read_risk_list_size_and_industry_filter(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """Size band and industry section filters combine."""
    scores = fitted.scores.scores
    expected = int(((scores["size_band"] == "small") & (scores["industry_section"] == "C")).sum())

    body = strict_json(_get(client, keys, "/v1/risk", params={"size": "small", "industry": "C"}))

    assert body["total"] == expected


def test_read_model_version_and_metrics(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """The model endpoint names the champion version, its run and its logged metrics."""
    body = strict_json(_get(client, keys, "/v1/model"))

    assert body["model_version"] == "1"
    assert body["champion_version"] == "1"
    assert body["as_of"] == fitted.as_of.isoformat()
    assert body["scored_employers"] == len(fitted.scores.scores)
    assert body["band_thresholds"] == {"red": 0.5, "orange": 0.2, "yellow": 0.05}
    assert "count_scale" in body["metrics"]


def test_read_openapi_docs(client: httpx.Client) -> None:
    """The OpenAPI document and the docs page are served without a key."""
    schema = client.get("/openapi.json")
    docs = client.get("/docs")

    assert schema.status_code == 200
    assert "/v1/employers/{employer_id}/explanation" in schema.json()["paths"]
    assert docs.status_code == 200
    assert "/web/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert client.get("/redoc").status_code == 404


def test_docs_assets_match_vendored_digests(client: httpx.Client) -> None:
    """The Swagger UI files the docs page loads are served from the app, unchanged."""
    folder = Path(api.__file__).parent / "web" / "static" / "vendor" / "swagger-ui"
    digests = dict(
        reversed(line.split()) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )

    for name, digest in digests.items():
        response = client.get(f"/web/static/vendor/swagger-ui/{name}")
        assert response.status_code == 200
        assert hashlib.sha256(response.content).hexdigest() == digest


def test_unknown_path_404_problem(client: httpx.Client) -> None:
    """An unknown path gets a problem detail too."""
    response = client.get("/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "路径 /v1/nothing-here 不存在；接口列表见 /docs。"


def test_store_and_memory_reads_give_same_bodies(
    scored_store: ScoredStore, registry: Registry, keys: dict[str, str], client: httpx.Client
) -> None:
    """A service that reads the store returns the same bodies as one holding the run in memory.

    Every body validates against its response model, and the scoped key's 404
    outside its districts holds on both paths.
    """
    admin = {"Authorization": f"Bearer {keys[ADMIN]}"}
    listed = client.get("/v1/risk", params={"limit": 40}, headers=admin).json()["data"]
    outside = next(row["employer_id"] for row in listed if row["district_code"] != SCOPE_DISTRICT)
    settings = service_settings(scored_store, registry).model_copy(
        update={"serve_scores_from_memory": False}
    )

    with (
        running_server(create_app(settings)) as url,
        httpx.Client(base_url=url, timeout=30) as from_store,
    ):
        for row in listed:
            for path, model in (
                (f"/v1/employers/{row['employer_id']}/risk", RiskScorePublic),
                (f"/v1/employers/{row['employer_id']}/explanation", ExplanationPublic),
            ):
                memory = client.get(path, headers={**admin, "Accept-Language": "en"})
                store = from_store.get(path, headers={**admin, "Accept-Language": "en"})
                assert memory.status_code == store.status_code == 200
                assert memory.json() == store.json()
                model.model_validate_json(memory.content)
        scoped = {"Authorization": f"Bearer {keys['scoped']}"}
        path = f"/v1/employers/{outside}/explanation"
        assert client.get(path, headers=scoped).status_code == 404
        assert from_store.get(path, headers=scoped).status_code == 404
