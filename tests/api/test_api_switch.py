"""Model switch without downtime, readiness, and the audit log, over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from api_factories import Fitted, Registry, ScoredStore, running_server, service_settings

from api.main import create_app
from risk.model.tracking import CHAMPION_ALIAS, register_model, tracking_client
from risk.scoring import write_score_frame

SWITCH_NAME = "injury-risk-switch"


def _wait_for(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met within the timeout")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def switch_versions(
    registry: Registry, scored_store: ScoredStore, fitted: Fitted
) -> Iterator[None]:
    """Register the fitted model twice under SWITCH_NAME (versions 1 and 2), both scored."""
    for _ in range(2):
        register_model(
            registry.run, tracking_uri=registry.tracking_uri, name=SWITCH_NAME, alias="candidate"
        )
    for version in ("1", "2"):
        write_score_frame(
            scored_store.engine, fitted.scores, model_name=SWITCH_NAME, model_version=version
        )
    client = tracking_client(registry.tracking_uri)
    client.set_registered_model_alias(SWITCH_NAME, CHAMPION_ALIAS, "1")
    yield


def _hammer(
    url: str, key: str, path: str, stop: threading.Event, results: list[tuple[int, str]]
) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        while not stop.is_set():
            response = http.get(path)
            version = (
                response.json().get("model_version", "") if response.status_code == 200 else ""
            )
            results.append((response.status_code, version))


def test_switch_champion_under_concurrent_requests(
    switch_versions: None,
    registry: Registry,
    scored_store: ScoredStore,
    keys: dict[str, str],
    fitted: Fitted,
) -> None:
    """Moving the champion alias while 8 clients read explanations fails no request."""
    employer_id = str(fitted.scores.scores["employer_id"].iloc[0])
    app = create_app(service_settings(scored_store, registry, SWITCH_NAME))
    results: list[tuple[int, str]] = []
    stop = threading.Event()
    client = tracking_client(registry.tracking_uri)

    with running_server(app) as url:
        threads = [
            threading.Thread(
                target=_hammer,
                args=(
                    url,
                    keys["admin"],
                    f"/v1/employers/{employer_id}/explanation",
                    stop,
                    results,
                ),
            )
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        _wait_for(lambda: len(results) > 50)
        client.set_registered_model_alias(SWITCH_NAME, CHAMPION_ALIAS, "2")
        _wait_for(lambda: any(version == "2" for _, version in results[-8:]))
        served_after = len(results)
        _wait_for(lambda: len(results) > served_after + 50)
        stop.set()
        for thread in threads:
            thread.join(30)
        served = app.state.services.holder.current

    statuses = {status for status, _ in results}
    versions = {version for _, version in results}
    assert statuses == {200}
    assert versions == {"1", "2"}
    # The new version's run was loaded into memory before the switch.
    assert served.model_version == "2"
    assert served.snapshot is not None and served.snapshot.run_id == served.run.run_id
    assert len(served.snapshot.scores) == len(fitted.scores.scores)


def test_switch_to_unscored_version_keeps_serving_old(
    switch_versions: None,
    registry: Registry,
    scored_store: ScoredStore,
    keys: dict[str, str],
) -> None:
    """A champion without a scoring run is reported as pending; the scored version keeps serving."""
    client = tracking_client(registry.tracking_uri)
    client.set_registered_model_alias(SWITCH_NAME, CHAMPION_ALIAS, "2")
    app = create_app(service_settings(scored_store, registry, SWITCH_NAME))
    headers = {"Authorization": f"Bearer {keys['admin']}"}

    with running_server(app) as url, httpx.Client(base_url=url, headers=headers) as http:
        version = register_model(
            registry.run, tracking_uri=registry.tracking_uri, name=SWITCH_NAME, alias=CHAMPION_ALIAS
        )
        _wait_for(lambda: http.get("/v1/model").json()["champion_version"] == version)
        body = http.get("/v1/model").json()
        ready = http.get("/readyz")

    assert body["model_version"] == "2"
    assert ready.status_code == 200


def test_readyz_without_champion_unavailable(
    registry: Registry, scored_store: ScoredStore, keys: dict[str, str]
) -> None:
    """Without a champion, /readyz is 503 and score endpoints return a 503 problem."""
    app = create_app(service_settings(scored_store, registry, "injury-risk-unregistered"))

    with running_server(app) as url, httpx.Client(base_url=url) as http:
        ready = http.get("/readyz")
        risk = http.get("/v1/risk", headers={"Authorization": f"Bearer {keys['admin']}"})
        health = http.get("/healthz")

    assert ready.status_code == 503
    assert ready.json()["checks"]["store"] == "ok"
    assert ready.json()["checks"]["model"].startswith("not loaded")
    assert risk.status_code == 503
    assert risk.json()["code"] == "model-unavailable"
    assert health.status_code == 200


def test_audit_log_records_reads_and_refusals(
    client: httpx.Client, keys: dict[str, str], fitted: Fitted
) -> None:
    """Reads by any role are audited with who, which employer, endpoint and status."""
    employer_id = str(fitted.scores.scores["employer_id"].iloc[7])
    for role in ("inspector", "trainer"):
        client.get(
            f"/v1/employers/{employer_id}/risk", headers={"Authorization": f"Bearer {keys[role]}"}
        )
    client.get(
        f"/v1/employers/{employer_id}/explanation",
        headers={"Authorization": f"Bearer {keys['inspector']}"},
    )

    response = client.get(
        "/v1/audit",
        params={"employer_id": employer_id},
        headers={"Authorization": f"Bearer {keys['admin']}"},
    )

    assert response.status_code == 200
    rows = response.json()["data"]
    seen = {(row["role"], row["endpoint"], row["status"]) for row in rows}
    assert ("inspector", "GET /v1/employers/{employer_id}/risk", 200) in seen
    assert ("trainer", "GET /v1/employers/{employer_id}/risk", 403) in seen
    assert ("inspector", "GET /v1/employers/{employer_id}/explanation", 200) in seen
    assert all(row["employer_id"] == employer_id and row["model_version"] == "1" for row in rows)
    assert rows == sorted(rows, key=lambda row: row["at"], reverse=True)


def test_audit_log_lists_ranked_list_reads(client: httpx.Client, keys: dict[str, str]) -> None:
    """Each employer shown by the ranked list gets its own audit row."""
    listed = client.get(
        "/v1/risk",
        params={"limit": 3, "band": "red"},
        headers={"Authorization": f"Bearer {keys['data_scientist']}"},
    ).json()["data"]

    audit = client.get(
        "/v1/audit",
        params={"employer_id": listed[0]["employer_id"]},
        headers={"Authorization": f"Bearer {keys['admin']}"},
    ).json()["data"]

    assert any(
        row["endpoint"] == "GET /v1/risk" and row["role"] == "data_scientist" for row in audit
    )
