"""Audit log of employer reads: who read which employer's data, when, through which endpoint.

Handlers call :meth:`AuditWriter.record`, which only queues the row; a
background thread inserts queued rows in batches, so a read does not wait
for a database write. :meth:`AuditWriter.flush` blocks until every row queued
before it is stored; the ``/v1/audit`` endpoint and shutdown call it. Rows
still queued when the process is killed without shutdown are lost.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select

from api.auth import ApiKeyPrincipal
from api.problems import ProblemError
from risk.store.access_models import AuditLog

logger = logging.getLogger(__name__)

_BATCH_ROWS = 1000
_FLUSH_SECONDS = 0.25
# Rows kept for a retry while the store rejects writes; beyond this the oldest are dropped.
_MAX_PENDING_ROWS = 200_000


@dataclass(frozen=True)
class AuditEntry:
    """One audit row before it is written."""

    key_id: str
    role: str
    employer_id: str | None
    endpoint: str
    at: dt.datetime
    status: int
    model_version: str | None
    as_of: dt.date | None


class AuditWriter:
    """Queue audit rows and insert them from a background thread.

    Parameters
    ----------
    engine : Engine
        The store holding the ``audit_log`` table.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._queue: queue.SimpleQueue[AuditEntry | threading.Event | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._pending: list[dict[str, Any]] = []

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def record(self, entry: AuditEntry) -> None:
        """Queue one row; returns at once."""
        self._queue.put(entry)

    def record_reads(
        self,
        principal: ApiKeyPrincipal,
        endpoint: str,
        employer_ids: Sequence[str | None],
        status: int,
        model_version: str | None,
        as_of: dt.date | None,
    ) -> None:
        """Queue one row per employer read by ``principal`` in one request."""
        now = dt.datetime.now(dt.UTC)
        for employer_id in employer_ids:
            self._queue.put(
                AuditEntry(
                    principal.key_id,
                    principal.role.value,
                    employer_id,
                    endpoint,
                    now,
                    status,
                    model_version,
                    as_of,
                )
            )

    def flush(self, timeout: float = 10.0) -> bool:
        """Block until rows queued so far are stored; return False on timeout or if stopped."""
        if not self._thread.is_alive():
            return False
        done = threading.Event()
        self._queue.put(done)
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Store the queued rows and stop the thread."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            waiters: list[threading.Event] = []
            stopping = self._collect(waiters)
            self._write_pending()
            for waiter in waiters:
                waiter.set()

    def _collect(self, waiters: list[threading.Event]) -> bool:
        # Block for the first item, then drain what arrives within the flush interval.
        item = self._queue.get()
        deadline = time.monotonic() + _FLUSH_SECONDS
        while True:
            if item is None:
                return True
            if isinstance(item, threading.Event):
                waiters.append(item)
                return False
            self._pending.append(item.__dict__.copy())
            if len(self._pending) >= _BATCH_ROWS:
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                item = self._queue.get(timeout=remaining)
            except queue.Empty:
                return False

    def _write_pending(self) -> None:
        if not self._pending:
            return
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(AuditLog), self._pending)
        except Exception:  # the thread must survive a store outage and retry later
            logger.exception("Failed to write %d audit row(s); will retry", len(self._pending))
            if len(self._pending) > _MAX_PENDING_ROWS:
                dropped = len(self._pending) - _MAX_PENDING_ROWS
                logger.error("Dropping the %d oldest unwritten audit row(s)", dropped)
                del self._pending[:dropped]
            return
        logger.debug("Wrote %d audit row(s)", len(self._pending))
        self._pending = []


@contextlib.contextmanager
def audited_read(
    writer: AuditWriter,
    principal: ApiKeyPrincipal,
    endpoint: str,
    employer_id: str,
    model_version: str | None,
    as_of: dt.date | None,
) -> Iterator[None]:
    """Record one read of ``employer_id``, with the status the block ends in.

    A :class:`ProblemError` raised inside the block (403, 404, ...) is
    recorded with its status and re-raised, any other exception as 500, and a
    cancellation as 499.
    """
    status = 200
    try:
        yield
    except ProblemError as exc:
        status = exc.status
        raise
    except Exception:
        status = 500
        raise
    except BaseException:
        # Cancelled, usually because the client went away: nginx's "client closed request".
        status = 499
        raise
    finally:
        writer.record_reads(principal, endpoint, [employer_id], status, model_version, as_of)


def read_audit_log(
    engine: Engine,
    *,
    employer_id: str | None = None,
    key_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[list[AuditEntry], int]:
    """Return one page of audit rows, newest first, and the total matching count."""
    conditions = []
    if employer_id is not None:
        conditions.append(AuditLog.employer_id == employer_id)
    if key_id is not None:
        conditions.append(AuditLog.key_id == key_id)
    query = select(AuditLog).where(*conditions)
    with engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        rows = connection.execute(
            query.order_by(AuditLog.at.desc(), AuditLog.audit_id.desc()).offset(offset).limit(limit)
        ).all()
    entries = [
        AuditEntry(
            row.key_id,
            row.role,
            row.employer_id,
            row.endpoint,
            _as_utc(row.at),
            row.status,
            row.model_version,
            row.as_of,
        )
        for row in rows
    ]
    return entries, int(total)


def _as_utc(value: dt.datetime) -> dt.datetime:
    # SQLite returns naive datetimes even for timezone-aware columns; they were written in UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
