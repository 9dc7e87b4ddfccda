"""API keys: creation, hashing, verification, roles and district scope.

A key reads ``irk_<key_id>_<secret>``. ``key_id`` (16 hex digits) is stored
in clear, so a lookup is one primary-key read. The secret is stored only as a
salted scrypt hash and compared in constant time.

scrypt costs tens of milliseconds by design, so a verified key is remembered
in memory: later requests compare a SHA-256 digest of the presented key with
the remembered one. The key's row (role, scope, revocation) is re-read at
most every ``cache_seconds``, which bounds how long a key revoked from the
CLI keeps working in a running service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Engine, insert, select, update

from risk.codelists import districts
from risk.store.access_models import ApiKey

logger = logging.getLogger(__name__)

KEY_PREFIX = "irk_"
_KEY_ID_LENGTH = 16
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LENGTH = 2**14, 8, 1, 32
HASH_SCHEME = f"scrypt:n={_SCRYPT_N},r={_SCRYPT_R},p={_SCRYPT_P}"


class Role(StrEnum):
    """Role of an API key; it decides which endpoints the key may call."""

    INSPECTOR = "inspector"
    TRAINER = "trainer"
    DATA_SCIENTIST = "data_scientist"
    ADMIN = "admin"


# Roles allowed to read employer scores, explanations and histories; trainers are not.
SCORE_READERS = frozenset({Role.INSPECTOR, Role.DATA_SCIENTIST, Role.ADMIN})
EVERY_ROLE = frozenset(Role)
ADMINS = frozenset({Role.ADMIN})


@dataclass(frozen=True)
class ApiKeyPrincipal:
    """The caller behind a verified key: its id, role and district scope."""

    key_id: str
    role: Role
    # Empty means the key may read every district.
    district_codes: frozenset[str]

    def may_read_district(self, district_code: str) -> bool:
        """Return whether the key's scope covers ``district_code``."""
        return not self.district_codes or district_code in self.district_codes


@dataclass(frozen=True)
class ApiKeyInfo:
    """One stored key without its secret, as ``keys list`` shows it."""

    key_id: str
    role: str
    district_codes: tuple[str, ...]
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


def _hash_secret(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        secret.encode("utf-8"),
        salt=salt,
        n=_SCRYPT_N,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        dklen=_SCRYPT_LENGTH,
    )


def split_key(token: str) -> tuple[str, str] | None:
    """Split a presented key into ``(key_id, secret)``, or return None if malformed."""
    if not token.startswith(KEY_PREFIX):
        return None
    body = token[len(KEY_PREFIX) :]
    key_id, separator, secret = body.partition("_")
    if not separator or not secret or len(key_id) != _KEY_ID_LENGTH:
        return None
    return key_id, secret


def _check_districts(district_codes: Iterable[str]) -> tuple[str, ...]:
    codes = tuple(sorted({code.strip() for code in district_codes if code.strip()}))
    known = set(districts()["code"])
    unknown = [code for code in codes if code not in known]
    if unknown:
        shown = ", ".join(repr(code) for code in unknown[:5]) + (", …" if len(unknown) > 5 else "")
        raise ValueError(
            f"未知的区县代码：{shown}；请使用 GB/T 2260 杭州市区县代码，例如 330109。"
            f" / Unknown district code(s): {shown}; use GB/T 2260 Hangzhou codes such as 330109."
        )
    return codes


def create_api_key(
    engine: Engine, role: Role | str, district_codes: Iterable[str] = (), label: str = ""
) -> tuple[str, ApiKeyInfo]:
    """Store a new key and return ``(key, info)``; the key is shown this once only.

    Raises
    ------
    ValueError
        If ``role`` is not a known role or a district code is not in the code list.
    """
    try:
        role = Role(role)
    except ValueError as exc:
        allowed = ", ".join(member.value for member in Role)
        raise ValueError(
            f"未知角色 {role!r}；可选：{allowed}。"
            f" / Unknown role {role!r}; choose one of: {allowed}."
        ) from exc
    codes = _check_districts(district_codes)
    key_id = secrets.token_hex(_KEY_ID_LENGTH // 2)
    secret = secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    created_at = dt.datetime.now(dt.UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(ApiKey).values(
                key_id=key_id,
                secret_hash=_hash_secret(secret, salt),
                salt=salt,
                hash_scheme=HASH_SCHEME,
                role=role.value,
                district_codes="|".join(codes),
                label=label,
                created_at=created_at,
                revoked_at=None,
            )
        )
    logger.info(
        "Created API key %s with role %s and %d district(s)", key_id, role.value, len(codes)
    )
    info = ApiKeyInfo(key_id, role.value, codes, label, created_at, None)
    return f"{KEY_PREFIX}{key_id}_{secret}", info


def _info_from_row(row: ApiKey) -> ApiKeyInfo:
    codes = tuple(code for code in row.district_codes.split("|") if code)
    return ApiKeyInfo(row.key_id, row.role, codes, row.label, row.created_at, row.revoked_at)


def list_api_keys(engine: Engine) -> list[ApiKeyInfo]:
    """Return every stored key, revoked ones included, oldest first."""
    with engine.connect() as connection:
        rows = connection.execute(select(ApiKey).order_by(ApiKey.created_at)).all()
    return [_info_from_row(row) for row in rows]


def revoke_api_key(engine: Engine, key_id: str) -> ApiKeyInfo:
    """Mark ``key_id`` revoked (a second revoke keeps the first time) and return it.

    Raises
    ------
    LookupError
        If no key has that id.
    """
    with engine.begin() as connection:
        connection.execute(
            update(ApiKey)
            .where(ApiKey.key_id == key_id, ApiKey.revoked_at.is_(None))
            .values(revoked_at=dt.datetime.now(dt.UTC))
        )
        row = connection.execute(select(ApiKey).where(ApiKey.key_id == key_id)).first()
    if row is None:
        raise LookupError(
            f"未找到 API 密钥 {key_id!r}；用 `injury-risk keys list` 查看已有密钥。"
            f" / API key {key_id!r} not found; `injury-risk keys list` shows the stored keys."
        )
    logger.info("Revoked API key %s", key_id)
    return _info_from_row(row)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _CacheEntry:
    principal: ApiKeyPrincipal
    token_digest: bytes
    checked_at: float


class KeyAuthenticator:
    """Verify presented keys against the store, remembering verified ones.

    Parameters
    ----------
    engine : Engine
        The store holding the ``api_key`` table.
    cache_seconds : float, default=5.0
        How long a verified key's role, scope and revocation state are reused
        before its row is read again.
    """

    def __init__(self, engine: Engine, cache_seconds: float = 5.0) -> None:
        self.engine = engine
        self.cache_seconds = cache_seconds
        self._entries: dict[str, _CacheEntry] = {}
        self._lock = threading.Lock()

    def lookup_cached(self, token: str) -> ApiKeyPrincipal | None:
        """Return the principal of a recently verified key, or None if a store read is needed."""
        parts = split_key(token)
        entry = self._entries.get(parts[0]) if parts else None
        if entry is None or time.monotonic() - entry.checked_at > self.cache_seconds:
            return None
        if not hmac.compare_digest(hashlib.sha256(token.encode()).digest(), entry.token_digest):
            return None
        return entry.principal

    def authenticate(self, token: str) -> ApiKeyPrincipal | None:
        """Verify ``token`` against the store; None for a malformed, unknown or revoked key.

        Blocks on a database read and, for a key not verified before, on scrypt.
        """
        parts = split_key(token)
        if parts is None:
            return None
        key_id, secret = parts
        with self.engine.connect() as connection:
            row = connection.execute(select(ApiKey).where(ApiKey.key_id == key_id)).first()
        if row is None or row.revoked_at is not None:
            with self._lock:
                self._entries.pop(key_id, None)
            return None
        digest = hashlib.sha256(token.encode()).digest()
        previous = self._entries.get(key_id)
        # scrypt only when this exact key has not been verified before in this process.
        if previous is None or not hmac.compare_digest(digest, previous.token_digest):
            if row.hash_scheme != HASH_SCHEME:
                logger.warning("API key %s has unsupported hash scheme %s", key_id, row.hash_scheme)
                return None
            if not hmac.compare_digest(_hash_secret(secret, row.salt), row.secret_hash):
                return None
        principal = ApiKeyPrincipal(
            key_id=key_id,
            role=Role(row.role),
            district_codes=frozenset(code for code in row.district_codes.split("|") if code),
        )
        with self._lock:
            self._entries[key_id] = _CacheEntry(principal, digest, time.monotonic())
        return principal
