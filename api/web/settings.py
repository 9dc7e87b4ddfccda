"""Settings of the web pages, read from ``INJURY_RISK_WEB_*`` environment variables."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)


class WebSettings(BaseSettings):
    """Session cookie and sign-in settings of the web pages.

    Every field can be set with ``INJURY_RISK_WEB_<FIELD>``, for example
    ``INJURY_RISK_WEB_COOKIE_SECURE=true`` behind an HTTPS proxy.
    """

    model_config = SettingsConfigDict(env_prefix="INJURY_RISK_WEB_", env_file=None, extra="ignore")

    # Key that signs the session and sign-in cookies; when unset, a random key
    # is created once in ``<var_dir>/web_secret.key`` and reused.
    secret_key: str | None = None
    # Send cookies with the Secure attribute; turn on whenever the pages are served over HTTPS.
    cookie_secure: bool = False
    # Hours a session lasts after sign-in; the user signs in again after that.
    session_hours: float = 12.0
    # Rows per page of the ranking.
    page_size: int = 50
    # Most rows one export writes; the export says so when the view has more.
    export_max_rows: int = 100_000


def load_secret_key(settings: WebSettings, var_dir: Path) -> bytes:
    """Return the signing key: the configured one, or the one kept in ``var_dir``.

    A key file is created with mode 0600 on first use, so sessions survive a
    restart and every worker process of one service signs with the same key.
    """
    if settings.secret_key:
        return settings.secret_key.encode("utf-8")
    path = var_dir / "web_secret.key"
    if not path.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        # Written to a private file first and then linked, so a second worker
        # starting at the same moment never reads a half-written key.
        staging = var_dir / f"web_secret.key.{os.getpid()}"
        descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(secrets.token_urlsafe(48))
        try:
            os.link(staging, path)
            logger.info("Created the web signing key file %s", path)
        except FileExistsError:
            pass
        finally:
            staging.unlink()
    return path.read_text(encoding="ascii").strip().encode("utf-8")
