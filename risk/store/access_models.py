"""SQLAlchemy models of API keys and the audit log.

The HTTP layer (``api.auth``, ``api.audit``) owns what these rows mean. The
tables live here because one Alembic chain, shipped in ``risk.store``,
migrates the whole database, and its metadata must cover every table.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from risk.store.models import Base


class ApiKey(Base):
    """API 密钥: one client key with its role and optional district scope.

    Only ``key_id`` is stored in clear, so a lookup is one primary-key read;
    the secret part is stored as a salted scrypt hash.
    """

    __tablename__ = "api_key"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    # Hash parameters such as "scrypt:n=16384,r=8,p=1", so they can change for new keys.
    hash_scheme: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    # "|"-separated GB/T 2260 district codes; empty means every district.
    district_codes: Mapped[str] = mapped_column(String(400), default="")
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AuditLog(Base):
    """审计日志: one read of an employer's score, explanation or history through the API."""

    __tablename__ = "audit_log"

    audit_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_key.key_id"))
    role: Mapped[str] = mapped_column(String(16))
    employer_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Route template with method, for example "GET /v1/employers/{employer_id}/risk".
    endpoint: Mapped[str] = mapped_column(String(120))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # HTTP status returned, so refused reads (403, 404) are on record too.
    status: Mapped[int] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    as_of: Mapped[dt.date | None] = mapped_column(Date, nullable=True)

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_employer", "employer_id", "at"),
        Index("ix_audit_log_key", "key_id", "at"),
    )
