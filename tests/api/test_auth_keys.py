"""API keys: hashing, verification, revocation, the verified-key cache and the keys CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from api.audit import AuditWriter, audited_read, read_audit_log
from api.auth import (
    ApiKeyPrincipal,
    KeyAuthenticator,
    Role,
    create_api_key,
    list_api_keys,
    revoke_api_key,
    split_key,
)
from api.cli import app
from api.problems import plan_problem, preferred_language
from risk.store import create_store_engine, upgrade_store
from training.errors import PlanNotFoundError
from training.feasibility import infeasible


@pytest.fixture()
def engine(tmp_path: Path) -> Engine:
    """An empty migrated store."""
    store = create_store_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    upgrade_store(store)
    return store


def test_create_api_key_verifies_and_stores_hash_only(engine: Engine) -> None:
    """A new key authenticates; the store contains its id and a hash, never the secret."""
    key, info = create_api_key(engine, Role.INSPECTOR, ["330109"], "district office")
    authenticator = KeyAuthenticator(engine)

    principal = authenticator.authenticate(key)

    assert principal is not None
    assert principal.role is Role.INSPECTOR
    assert principal.district_codes == frozenset({"330109"})
    parts = split_key(key)
    assert parts is not None
    assert parts[0] == info.key_id
    with engine.connect() as connection:
        dump = "\n".join(connection.connection.iterdump())  # type: ignore[attr-defined]
    assert parts[1] not in dump


def test_authenticate_wrong_secret_rejected(engine: Engine) -> None:
    """A key with the right id and a wrong secret is rejected, also after a success."""
    key, _ = create_api_key(engine, Role.ADMIN)
    authenticator = KeyAuthenticator(engine)
    assert authenticator.authenticate(key) is not None

    assert authenticator.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticator.lookup_cached(key[:-1] + "x") is None


@pytest.mark.parametrize(
    "token", ["", "irk_", "irk_short_secret", "Bearer x", "irk_0123456789abcdef_"]
)
def test_authenticate_malformed_key_rejected(engine: Engine, token: str) -> None:
    """Malformed keys are rejected without a store lookup failing."""
    assert KeyAuthenticator(engine).authenticate(token) is None


def test_revoke_api_key_rejected_after_cache_expiry(engine: Engine) -> None:
    """A revoked key is rejected once the cache entry has expired."""
    key, info = create_api_key(engine, Role.DATA_SCIENTIST)
    authenticator = KeyAuthenticator(engine, cache_seconds=0.0)
    assert authenticator.authenticate(key) is not None

    revoke_api_key(engine, info.key_id)

    assert authenticator.lookup_cached(key) is None
    assert authenticator.authenticate(key) is None
    assert list_api_keys(engine)[0].revoked_at is not None


def test_create_api_key_unknown_role_and_district_raise(engine: Engine) -> None:
    """Unknown roles and district codes are rejected with the accepted values."""
    with pytest.raises(
        ValueError, match="choose one of: inspector, trainer, data_scientist, admin"
    ):
        create_api_key(engine, "superuser")
    with pytest.raises(ValueError, match="Unknown district code"):
        create_api_key(engine, Role.INSPECTOR, ["999999"])


def test_revoke_api_key_unknown_raises(engine: Engine) -> None:
    """Revoking an unknown key id raises LookupError naming it."""
    with pytest.raises(LookupError, match="'0000000000000000' not found"):
        revoke_api_key(engine, "0000000000000000")


def test_keys_cli_create_list_revoke(engine: Engine) -> None:
    """`keys create` prints the key alone on its last line; list and revoke use its id."""
    runner = CliRunner()
    url = str(engine.url)

    created = runner.invoke(
        app,
        [
            "keys",
            "create",
            "--role",
            "trainer",
            "--districts",
            "330109,330110",
            "--database-url",
            url,
        ],
    )
    key = created.stdout.strip().splitlines()[-1]
    key_id = split_key(key)[0]  # type: ignore[index]
    listed = runner.invoke(app, ["keys", "list", "--database-url", url])
    revoked = runner.invoke(app, ["keys", "revoke", key_id, "--database-url", url])

    assert created.exit_code == 0, created.output
    assert KeyAuthenticator(engine).authenticate(key) is None  # revoked by now
    assert f"{key_id}\ttrainer\t330109,330110" in listed.stdout
    assert revoked.exit_code == 0
    assert f"revoked key {key_id}" in revoked.stdout


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "zh"),
        ("", "zh"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        ("fr-FR,en;q=0.5,zh;q=0.4", "en"),
        ("de-DE", "zh"),
        ("en;q=0.2,zh;q=0.8", "zh"),
        ("en;q=bad", "zh"),
    ],
)
def test_preferred_language_accept_language(header: str | None, language: str) -> None:
    """Chinese unless Accept-Language ranks English above it."""
    assert preferred_language(header) == language


def test_plan_problem_keeps_language_halves_apart() -> None:
    """A planning message quoting text with " / " still gives each language its own half."""
    error = infeasible("must_include", "单位 a / b 已受训。", "employer a / b was trained.")

    problem = plan_problem("plan-infeasible", error)

    assert problem.params["message_zh"].endswith("单位 a / b 已受训。")
    assert problem.params["message_en"].endswith("employer a / b was trained.")
    assert "单位" not in problem.params["message_en"]


def test_plan_problem_splits_plain_bilingual_message() -> None:
    """An error raised with one "中文 / English" message is split at its separator."""
    error = PlanNotFoundError("未找到计划 3。 / Plan 3 not found.")

    problem = plan_problem("plan-not-found", error)

    assert problem.params["message_zh"] == "未找到计划 3。"
    assert problem.params["message_en"] == "Plan 3 not found."
    assert problem.status == 404


@pytest.mark.parametrize(
    ("raised", "status"),
    [(asyncio.CancelledError, 499), (RuntimeError, 500), (None, 200)],
)
def test_audited_read_status_per_outcome(
    engine: Engine, raised: type[BaseException] | None, status: int
) -> None:
    """A read is audited with 200, 500 for a failure and 499 when the request is cancelled."""
    writer = AuditWriter(engine)
    writer.start()
    _, info = create_api_key(engine, Role.INSPECTOR)
    principal = ApiKeyPrincipal(info.key_id, Role.INSPECTOR, frozenset())

    try:
        with audited_read(writer, principal, "GET /x", "E1", "1", None):
            if raised is not None:
                raise raised()
    except BaseException as exc:
        assert raised is not None and isinstance(exc, raised)
    writer.flush()
    rows, total = read_audit_log(engine, employer_id="E1")
    writer.close()

    assert total == 1
    assert rows[0].status == status
