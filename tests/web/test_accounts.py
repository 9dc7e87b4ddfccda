"""Web user accounts: Argon2 hashes, checks on new accounts, sessions and disabling."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from api.auth import KeyAuthenticator
from api.web.accounts import (
    create_user,
    disable_user,
    end_session,
    find_user,
    read_session,
    start_session,
    verify_password,
)
from api.web.db_models import WebUser
from risk.store import create_store_engine, upgrade_store


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """A freshly migrated SQLite store."""
    store = create_store_engine(f"sqlite:///{tmp_path / 'accounts.db'}")
    upgrade_store(store)
    return store


def test_create_user_stores_argon2_hash(engine: Engine) -> None:
    """The password is stored only as an Argon2id hash that verifies it."""
    create_user(engine, "li.wei", "inspector", "long-enough-password", district_codes=["330106"])

    with engine.connect() as connection:
        stored = connection.execute(select(WebUser.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "long-enough-password" not in stored
    user = verify_password(engine, "li.wei", "long-enough-password")
    assert user is not None
    assert user.district_codes == frozenset({"330106"})
    assert verify_password(engine, "li.wei", "wrong-password") is None
    assert verify_password(engine, "nobody", "long-enough-password") is None


def test_create_user_existing_name_rejected(engine: Engine) -> None:
    """A second account with the same name needs ``replace``, which resets role and password."""
    create_user(engine, "wang", "inspector", "first-password-1")

    with pytest.raises(ValueError, match="已存在"):
        create_user(engine, "wang", "admin", "second-password-2")
    replaced = create_user(engine, "wang", "admin", "second-password-2", replace=True)

    assert replaced.role.value == "admin"
    assert verify_password(engine, "wang", "first-password-1") is None
    assert verify_password(engine, "wang", "second-password-2") is not None


@pytest.mark.parametrize(
    ("username", "role", "password", "districts", "message"),
    [
        ("a", "inspector", "long-enough-password", [], "用户名 'a' 无效"),
        ("zhang", "auditor", "long-enough-password", [], "未知角色 'auditor'"),
        ("zhang", "inspector", "short", [], "密码太短"),
        ("zhang", "inspector", "long-enough-password", ["999999"], "未知的区县代码：'999999'"),
    ],
)
def test_create_user_invalid_input_rejected(
    engine: Engine, username: str, role: str, password: str, districts: list[str], message: str
) -> None:
    """Invalid usernames, roles, passwords and district codes are rejected with the value."""
    with pytest.raises(ValueError, match=message):
        create_user(engine, username, role, password, district_codes=districts)


def test_audit_key_cannot_authenticate(engine: Engine) -> None:
    """The API key row that carries a user's audit entries is revoked and never authenticates."""
    user = create_user(engine, "chen", "admin", "long-enough-password")

    authenticator = KeyAuthenticator(engine)

    assert authenticator.authenticate(f"irk_{user.audit_key_id}_anything") is None


def test_session_lifecycle(engine: Engine) -> None:
    """A session is found by its token until it is ended; the store holds only a digest."""
    user = create_user(engine, "zhao", "inspector", "long-enough-password")
    token, session = start_session(engine, user, hours=1)

    found = read_session(engine, token)
    end_session(engine, token)

    assert found is not None
    assert found.user.username == "zhao"
    assert found.csrf_token == session.csrf_token
    assert read_session(engine, token) is None


def test_session_expired_rejected(engine: Engine) -> None:
    """A session past its expiry time no longer signs the user in."""
    user = create_user(engine, "sun", "inspector", "long-enough-password")
    token, _ = start_session(engine, user, hours=-1)

    assert read_session(engine, token) is None


def test_disable_user_ends_sessions(engine: Engine) -> None:
    """Disabling an account ends its sessions and blocks sign-in."""
    user = create_user(engine, "zhou", "trainer", "long-enough-password")
    token, _ = start_session(engine, user, hours=1)

    disabled = disable_user(engine, "zhou")

    assert disabled.disabled
    assert read_session(engine, token) is None
    assert verify_password(engine, "zhou", "long-enough-password") is None
    with pytest.raises(LookupError, match="未找到用户 'nobody'"):
        disable_user(engine, "nobody")
    assert find_user(engine, "nobody") is None
