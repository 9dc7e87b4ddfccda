"""SQLAlchemy models of web sign-in: user accounts and their sessions.

The tables are declared on :class:`risk.store.models.Base`, and migration
``0004`` creates them, so one Alembic chain migrates the whole database.
Alembic's environment loads this module through the ``injury_risk.store_models``
entry point (see ``pyproject.toml``), so ``risk`` never imports ``api``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from risk.store.models import Base


class WebUser(Base):
    """网页用户: one person who signs in to the web pages, with a role and a district scope."""

    __tablename__ = "web_user"

    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    # Argon2id hash in PHC string form ("$argon2id$v=19$m=...,t=...,p=...$salt$hash").
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    # "|"-separated GB/T 2260 district codes; empty means every district.
    district_codes: Mapped[str] = mapped_column(String(400), default="")
    # API key row that audit-log entries of this user's reads point to, and that
    # links a trainer to its organisation as a trainer's API key is linked. It
    # is revoked when created, so it can never authenticate an API call.
    audit_key_id: Mapped[str] = mapped_column(String(16), ForeignKey("api_key.key_id"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class WebSession(Base):
    """登录会话: one signed-in browser; deleting the row signs it out."""

    __tablename__ = "web_session"

    # SHA-256 of the random token in the cookie, so a copy of the table cannot be replayed.
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("web_user.user_id", ondelete="CASCADE")
    )
    # Per-session token that every form posts back (CSRF protection).
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_web_session_user", "user_id"),)
