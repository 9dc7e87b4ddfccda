"""Roles, district scope and authentication of every endpoint, through real HTTP."""

from __future__ import annotations

import httpx
import pytest
from api_factories import SCOPE_DISTRICT, Fitted

ENDPOINTS = [
    "risk",
    "explanation",
    "history",
    "what-if",
    "list",
    "model",
    "audit",
    "healthz",
    "readyz",
]

# role -> expected status per endpoint, in the order of ENDPOINTS. The employer
# read is outside SCOPE_DISTRICT, so the scoped key gets 404 for it.
EXPECTED: dict[str, list[int]] = {
    "inspector": [200, 200, 200, 200, 200, 200, 403, 200, 200],
    "data_scientist": [200, 200, 200, 200, 200, 200, 403, 200, 200],
    "admin": [200, 200, 200, 200, 200, 200, 200, 200, 200],
    "trainer": [403, 403, 403, 403, 403, 200, 403, 200, 200],
    "scoped": [404, 404, 404, 404, 200, 200, 403, 200, 200],
    "revoked": [401, 401, 401, 401, 401, 401, 401, 200, 200],
    "malformed": [401, 401, 401, 401, 401, 401, 401, 200, 200],
    "none": [401, 401, 401, 401, 401, 401, 401, 200, 200],
}


def outside_scope_employer(fitted: Fitted) -> str:
    """Return an employer whose district is not SCOPE_DISTRICT."""
    employers = fitted.tables.employers
    return str(employers.loc[employers["district_code"] != SCOPE_DISTRICT, "employer_id"].iloc[0])


def call(
    client: httpx.Client, endpoint: str, employer_id: str, headers: dict[str, str]
) -> httpx.Response:
    """Call ``endpoint`` (a name of ENDPOINTS) for ``employer_id``."""
    paths = {
        "risk": f"/v1/employers/{employer_id}/risk",
        "explanation": f"/v1/employers/{employer_id}/explanation",
        "history": f"/v1/employers/{employer_id}/history",
        "list": "/v1/risk",
        "model": "/v1/model",
        "audit": "/v1/audit",
        "healthz": "/healthz",
        "readyz": "/readyz",
    }
    if endpoint == "what-if":
        return client.post(
            f"/v1/employers/{employer_id}/what-if",
            json={"rectify_open_hazards": True},
            headers=headers,
        )
    return client.get(paths[endpoint], headers=headers)


def _headers(keys: dict[str, str], role: str) -> dict[str, str]:
    if role == "none":
        return {}
    if role == "malformed":
        return {"Authorization": "Bearer not-a-key"}
    return {"Authorization": f"Bearer {keys[role]}"}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_access_role_endpoint_status_table(
    role: str, client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """Each role gets the expected status from each endpoint."""
    employer_id = outside_scope_employer(fitted)
    headers = _headers(keys, role)

    statuses = [call(client, endpoint, employer_id, headers).status_code for endpoint in ENDPOINTS]

    assert dict(zip(ENDPOINTS, statuses, strict=True)) == dict(
        zip(ENDPOINTS, EXPECTED[role], strict=True)
    )


def test_access_without_key_problem_json(client: httpx.Client, fitted: Fitted) -> None:
    """A request without a key gets a 401 problem with a Bearer challenge."""
    response = client.get(f"/v1/employers/{outside_scope_employer(fitted)}/risk")

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == (
        "缺少 API 密钥或密钥无效、已吊销；请在请求头中发送 Authorization: Bearer <密钥>。"
    )


def test_access_trainer_forbidden_detail_english(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """A trainer reading a score gets 403 with the English detail on request."""
    response = client.get(
        f"/v1/employers/{outside_scope_employer(fitted)}/risk",
        headers={**_headers(keys, "trainer"), "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"},
    )

    assert response.status_code == 403
    assert response.headers["content-language"] == "en"
    assert response.json()["detail"] == (
        "Role 'trainer' may not use this endpoint;"
        " it needs one of: admin, data_scientist, inspector."
    )


def test_access_scoped_key_lists_own_district_only(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    """A district-scoped key's ranked list contains its district only."""
    response = client.get("/v1/risk", params={"limit": 500}, headers=_headers(keys, "scoped"))

    assert response.status_code == 200
    districts = {row["district_code"] for row in response.json()["data"]}
    assert districts == {SCOPE_DISTRICT}


def test_access_scoped_key_other_district_filter_forbidden(
    client: httpx.Client, keys: dict[str, str]
) -> None:
    """A scoped key asking for another district's list gets 403."""
    response = client.get(
        "/v1/risk", params={"district": "330102"}, headers=_headers(keys, "scoped")
    )

    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"区县 330102 不在本密钥的授权范围内；可访问的区县：{SCOPE_DISTRICT}。"
    )


def test_access_scoped_key_reads_employer_in_scope(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """A scoped key reads an employer of its own district."""
    employers = fitted.tables.employers
    inside = employers.loc[employers["district_code"] == SCOPE_DISTRICT, "employer_id"].iloc[0]

    response = client.get(f"/v1/employers/{inside}/explanation", headers=_headers(keys, "scoped"))

    assert response.status_code == 200
    assert response.json()["employer_id"] == inside
