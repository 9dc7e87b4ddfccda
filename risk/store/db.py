"""Engine creation and schema migrations (Alembic) for the store."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from risk.errors import StoreError

logger = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"


def create_store_engine(database_url: str) -> Engine:
    """Create an engine for ``database_url`` (SQLite file or PostgreSQL).

    For a SQLite file the parent folder is created, and every connection turns
    on foreign keys and write-ahead logging.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        pool: dict[str, int] = {}
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            # Keep as many idle connections as the service has worker threads (anyio's
            # default, 40): with SQLAlchemy's default of 5, most requests under load
            # closed a connection and opened a new one.
            pool = {"pool_size": _SQLITE_POOL_SIZE, "max_overflow": 10}
        engine = create_engine(url, **pool)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    if url.get_backend_name() == "postgresql" and url.drivername == "postgresql":
        # psycopg 3 is the driver the project installs; plain postgresql:// would pick psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


_SQLITE_POOL_SIZE = 40


def _configure_sqlite(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade_store(engine: Engine, revision: str = "head") -> None:
    """Migrate the store's schema to ``revision`` (the latest by default)."""
    logger.info("Migrating store %s to revision %s", engine.url.render_as_string(), revision)
    command.upgrade(_alembic_config(engine), revision)


def head_revision() -> str:
    """Return the newest migration revision shipped with the package."""
    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    head = script.get_current_head()
    if head is None:
        raise StoreError("no migration revisions are shipped with the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision of the store, or None for an empty database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current_schema(engine: Engine) -> None:
    """Raise :class:`StoreError` unless the store is migrated to the newest revision."""
    current = current_revision(engine)
    head = head_revision()
    if current != head:
        raise StoreError(
            f"数据库结构版本为 {current!r}，应为 {head!r}；请先运行 `injury-risk db upgrade`。"
            f" / The store schema is at revision {current!r}, expected {head!r};"
            " run `injury-risk db upgrade` first."
        )
