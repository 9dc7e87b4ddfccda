"""Web user accounts: creation, Argon2 password hashes, sign-in and sessions.

Passwords are hashed with Argon2id (``argon2-cffi``'s defaults, RFC 9106's
low-memory profile). A session is a random token. The browser keeps it in a
signed cookie, and the store keeps only its SHA-256 digest with the user and
the session's CSRF token, so signing out (deleting the row) ends it at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, insert, select, update

from api.auth import ApiKeyPrincipal, Role, create_api_key, revoke_api_key
from api.web.db_models import WebSession, WebUser
from risk.codelists import districts
from training.records import link_trainer_key

logger = logging.getLogger(__name__)

_HASHER = PasswordHasher()
# A hash to verify against when the username is unknown, so that a wrong
# username costs as long as a wrong password and does not reveal which names exist.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{2,64}$")
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True)
class WebUserInfo:
    """One user account without its password hash."""

    user_id: int
    username: str
    role: Role
    district_codes: frozenset[str]
    audit_key_id: str
    disabled: bool

    @property
    def principal(self) -> ApiKeyPrincipal:
        """The user as the API's access checks and audit log see a caller."""
        return ApiKeyPrincipal(self.audit_key_id, self.role, self.district_codes)


@dataclass(frozen=True)
class SignedInSession:
    """A valid session: its user and the CSRF token its forms must post back."""

    user: WebUserInfo
    csrf_token: str


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _as_utc(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _info(row: WebUser) -> WebUserInfo:
    return WebUserInfo(
        user_id=row.user_id,
        username=row.username,
        role=Role(row.role),
        district_codes=frozenset(code for code in row.district_codes.split("|") if code),
        audit_key_id=row.audit_key_id,
        disabled=row.disabled_at is not None,
    )


def _check_account(
    username: str, role: Role | str, district_codes: Iterable[str]
) -> tuple[Role, tuple[str, ...]]:
    if not _USERNAME.fullmatch(username):
        raise ValueError(
            f"用户名 {username!r} 无效：须为 2 至 64 个字母、数字或 _ . @ - 字符。"
            f" / Invalid username {username!r}: use 2 to 64 letters, digits or _ . @ -."
        )
    try:
        checked_role = Role(role)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in Role)
        raise ValueError(
            f"未知角色 {role!r}；可选：{allowed}。"
            f" / Unknown role {role!r}; choose one of: {allowed}."
        ) from exc
    codes = tuple(sorted({code.strip() for code in district_codes if code.strip()}))
    unknown = sorted(set(codes) - set(districts()["code"]))
    if unknown:
        shown = ", ".join(repr(code) for code in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise ValueError(
            f"未知的区县代码：{shown}；请使用 GB/T 2260 杭州市区县代码，例如 330109。"
            f" / Unknown district code(s): {shown}; use GB/T 2260 Hangzhou codes such as 330109."
        )
    return checked_role, codes


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(
            f"密码太短：至少需要 {MIN_PASSWORD_LENGTH} 个字符。"
            f" / Password too short: it needs at least {MIN_PASSWORD_LENGTH} characters."
        )


def generate_password() -> str:
    """Return a random password of 16 URL-safe characters (96 bits)."""
    return secrets.token_urlsafe(12)


def create_user(
    engine: Engine,
    username: str,
    role: Role | str,
    password: str,
    *,
    district_codes: Iterable[str] = (),
    organisation: str | None = None,
    replace: bool = False,
) -> WebUserInfo:
    """Store a user account and return it.

    With ``replace``, an existing account of that name gets the new password,
    role and scope, and its sessions end. Without it, an existing name is an error.
    ``organisation`` links a trainer to the training organisation whose
    published sessions it sees, as ``link_trainer_key`` links a trainer's API key.

    Raises
    ------
    ValueError
        If the username, role, a district code or the password is invalid, or
        the username exists and ``replace`` is False.
    """
    checked_role, codes = _check_account(username, role, district_codes)
    _check_password(password)
    with engine.connect() as connection:
        existing = connection.execute(select(WebUser).where(WebUser.username == username)).first()
    if existing is not None and not replace:
        raise ValueError(
            f"用户 {username!r} 已存在；如需重设密码和角色，请加 --replace。"
            f" / User {username!r} already exists; add --replace to reset its password and role."
        )

    values = {
        "password_hash": _HASHER.hash(password),
        "role": checked_role.value,
        "district_codes": "|".join(codes),
        "disabled_at": None,
    }
    if existing is None:
        # The audit log refers to API keys, so each user gets a key row that is
        # revoked at once: it records who read what, and never authenticates.
        _, key = create_api_key(
            engine, checked_role, codes, label=f"web user {username} (audit only)"
        )
        revoke_api_key(engine, key.key_id)
        values["audit_key_id"] = key.key_id
    with engine.begin() as connection:
        if existing is None:
            connection.execute(
                insert(WebUser).values(username=username, created_at=_now(), **values)
            )
        else:
            connection.execute(
                update(WebUser).where(WebUser.user_id == existing.user_id).values(**values)
            )
            connection.execute(delete(WebSession).where(WebSession.user_id == existing.user_id))
    logger.info(
        "%s web user %s with role %s and %d district(s)",
        "Replaced" if existing is not None else "Created",
        username,
        checked_role.value,
        len(codes),
    )
    user = _require_user(engine, username)
    if organisation:
        link_trainer_key(engine, user.audit_key_id, organisation)
    return user


def find_user(engine: Engine, username: str) -> WebUserInfo | None:
    """Return the account named ``username``, or None."""
    with engine.connect() as connection:
        row = connection.execute(select(WebUser).where(WebUser.username == username)).first()
    return None if row is None else _info(row)  # type: ignore[arg-type]


def _require_user(engine: Engine, username: str) -> WebUserInfo:
    found = find_user(engine, username)
    if found is None:
        raise LookupError(
            f"未找到用户 {username!r}；用 `injury-risk users list` 查看已有用户。"
            f" / User {username!r} not found; `injury-risk users list` shows the accounts."
        )
    return found


def list_users(engine: Engine) -> list[WebUserInfo]:
    """Return every account, by username."""
    with engine.connect() as connection:
        rows = connection.execute(select(WebUser).order_by(WebUser.username)).all()
    return [_info(row) for row in rows]  # type: ignore[arg-type]


def disable_user(engine: Engine, username: str) -> WebUserInfo:
    """Disable an account and end its sessions.

    Raises
    ------
    LookupError
        If no account has that name.
    """
    with engine.begin() as connection:
        row = connection.execute(select(WebUser).where(WebUser.username == username)).first()
        if row is None:
            raise LookupError(
                f"未找到用户 {username!r}；用 `injury-risk users list` 查看已有用户。"
                f" / User {username!r} not found; `injury-risk users list` shows the accounts."
            )
        connection.execute(
            update(WebUser).where(WebUser.user_id == row.user_id).values(disabled_at=_now())
        )
        connection.execute(delete(WebSession).where(WebSession.user_id == row.user_id))
    logger.info("Disabled web user %s", username)
    return _require_user(engine, username)


def verify_password(engine: Engine, username: str, password: str) -> WebUserInfo | None:
    """Return the enabled account whose password matches, else None (in about constant time)."""
    with engine.connect() as connection:
        row = connection.execute(select(WebUser).where(WebUser.username == username)).first()
    stored = row.password_hash if row is not None else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or row.disabled_at is not None:
        return None
    if _HASHER.check_needs_rehash(stored):
        # The hash parameters were raised since this hash was made: store a fresh
        # hash while the password is at hand.
        with engine.begin() as connection:
            connection.execute(
                update(WebUser)
                .where(WebUser.user_id == row.user_id)
                .values(password_hash=_HASHER.hash(password))
            )
    return _info(row)  # type: ignore[arg-type]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(engine: Engine, user: WebUserInfo, hours: float) -> tuple[str, SignedInSession]:
    """Store a new session for ``user``; return the cookie token and the session."""
    token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as connection:
        # Expired sessions of any user are removed here, so the table does not grow without bound.
        connection.execute(delete(WebSession).where(WebSession.expires_at < now))
        connection.execute(
            insert(WebSession).values(
                token_hash=_digest(token),
                user_id=user.user_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=now + dt.timedelta(hours=hours),
            )
        )
    logger.info("Web user %s signed in", user.username)
    return token, SignedInSession(user, csrf_token)


_SESSION_QUERY = select(
    WebSession.csrf_token, WebSession.expires_at, *WebUser.__table__.columns
).join(WebUser, WebUser.user_id == WebSession.user_id)


def read_session(engine: Engine, token: str) -> SignedInSession | None:
    """Return the session behind ``token``, or None when it is unknown, expired or disabled."""
    with engine.connect() as connection:
        row = connection.execute(
            _SESSION_QUERY.where(WebSession.token_hash == _digest(token))
        ).first()
    if row is None or _as_utc(row.expires_at) <= _now() or row.disabled_at is not None:
        return None
    return SignedInSession(_info(row), row.csrf_token)  # type: ignore[arg-type]


def end_session(engine: Engine, token: str) -> None:
    """Delete the session behind ``token``; nothing happens when there is none."""
    with engine.begin() as connection:
        connection.execute(delete(WebSession).where(WebSession.token_hash == _digest(token)))
