"""Is a run marked ``running`` still alive? Every run holds a lock of its own while it runs.

A job killed with SIGKILL (a Celery worker's child, a CLI process, a power loss) never records
its end, so its ``sync_runs`` row says ``running`` for ever. The lock says the truth: the
operating system or the server frees it when the process dies, so a run whose lock anyone can
take is dead — whichever job or process asks, with no heartbeat to tune and no clock to trust.

- PostgreSQL: a session-level advisory lock (the key ``_PG_RUN_LOCK`` and a hash of the schema
  and the run id) on one connection per ``Store`` and process, held while that process has a
  live run (one connection, not one per run: a sync's parallel imports would drain the pool).
  A hash collision can only make a dead run look alive, never the reverse.
- SQLite: ``flock`` on ``<database>.runs/<run id>``; the run removes the file at its end, and
  whoever finds a dead run removes its file. A missing file is a dead run (or one from before
  this lock existed). A private in-memory store has no other process: its runs are never stale.

The lock is taken *before* the row is inserted and freed *after* its end is committed, so a row
seen ``running`` with a free lock is dead; closing it is ``UPDATE … WHERE status = 'running'``,
so a run that ended meanwhile keeps its own end.
"""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text, update

from ._runs import INTERRUPTED, RUNNING
from ._schema import SyncRunRecord
from ._types import utcnow

_PG_RUN_LOCK = 0x5B0_2019  # int4: the two-key advisory lock of one run
_HASH = "hashtext(current_schema() || '/' || :run)"


@dataclass
class _Holder:
    """The connection holding this process's runs' locks on one PostgreSQL store."""

    guard: threading.Lock = field(default_factory=threading.Lock)
    connection: Connection | None = None
    runs: set[str] = field(default_factory=set)


# Per Store object, gone with it (keyed by id(), a new Store could inherit a dead one's entry).
_holders: weakref.WeakKeyDictionary[Any, _Holder] = weakref.WeakKeyDictionary()
_holders_guard = threading.Lock()


def _holder(store: Any) -> _Holder:
    with _holders_guard:
        return _holders.setdefault(store, _Holder())


@contextmanager
def live_run(store: Any, run_id: str) -> Iterator[None]:
    """Hold ``run_id``'s liveness lock for the ``with`` block: enter it before the run's row is
    committed (:func:`shoploop.store.start_run`), leave it after its end is."""
    if store.backend == "postgresql":
        holder = _holder(store)
        with holder.guard:
            if holder.connection is None:
                # Not from the pool's sessions: the lock must outlive every transaction.
                holder.connection = store.open_connection()
            holder.connection.execute(text(f"SELECT pg_advisory_lock(:k, {_HASH})"),
                                      {"k": _PG_RUN_LOCK, "run": run_id})
            holder.connection.commit()
            holder.runs.add(run_id)
        try:
            yield
        finally:
            with holder.guard:
                holder.runs.discard(run_id)
                if holder.connection is not None:
                    if holder.runs:
                        holder.connection.execute(
                            text(f"SELECT pg_advisory_unlock(:k, {_HASH})"),
                            {"k": _PG_RUN_LOCK, "run": run_id})
                        holder.connection.commit()
                    else:  # closing the session frees its locks
                        holder.connection.close()
                        holder.connection = None
        return
    folder = _run_folder(store)
    if folder is None:
        yield
        return
    folder.mkdir(exist_ok=True)
    path = folder / run_id
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # a new id: nobody else has it
        yield
    finally:
        path.unlink(missing_ok=True)
        os.close(descriptor)


def _run_folder(store: Any) -> Path | None:
    database = store.engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.runs")


def _dead(store: Any, connection: Connection, run_id: str) -> bool:
    """Is ``run_id``'s lock free (its process gone)? Cleans up what it finds (SQLite)."""
    if store.backend == "postgresql":
        taken = connection.execute(text(f"SELECT pg_try_advisory_lock(:k, {_HASH})"),
                                   {"k": _PG_RUN_LOCK, "run": run_id}).scalar()
        if taken:
            connection.execute(text(f"SELECT pg_advisory_unlock(:k, {_HASH})"),
                               {"k": _PG_RUN_LOCK, "run": run_id})
        return bool(taken)
    folder = _run_folder(store)
    if folder is None:
        return False
    path = folder / run_id
    try:
        descriptor = os.open(path, os.O_RDWR)  # never create it: a missing file is dead
    except FileNotFoundError:
        return True
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return False
            raise
        path.unlink(missing_ok=True)  # the dead run's leftover
        return True
    finally:
        os.close(descriptor)


Match = Callable[[SyncRunRecord], bool]


def stale_runs(store: Any, *, jobs: Sequence[str] | None = None,
               match: Match | None = None) -> list[SyncRunRecord]:
    """The runs marked ``running`` whose process is gone, of ``jobs`` (default: all) and for
    which ``match`` holds (e.g. the same connection), oldest first."""
    query = select(SyncRunRecord).where(SyncRunRecord.status == RUNNING) \
        .order_by(SyncRunRecord.started_at)
    if jobs is not None:
        query = query.where(SyncRunRecord.job.in_(list(jobs)))
    with store.session() as session:
        candidates = [r for r in session.scalars(query) if match is None or match(r)]
    if not candidates:
        return []
    with store.connect() as connection:
        dead = [r for r in candidates if _dead(store, connection, r.id)]
        connection.commit()
    return dead


def close_stale_runs(store: Any, *, by: str, jobs: Sequence[str] | None = None,
                     match: Match | None = None) -> list[str]:
    """Record every stale run (:func:`stale_runs`) as ``interrupted``, its summary saying why
    (``interrupted``: the process died, found by ``by``); returns their ids."""
    closed: list[str] = []
    found = datetime.now(UTC).isoformat(timespec="seconds")
    for record in stale_runs(store, jobs=jobs, match=match):
        reason = f"its process died while it ran (found by {by} at {found})"
        with store.session() as session:
            result = session.execute(
                update(SyncRunRecord)
                .where(SyncRunRecord.id == record.id, SyncRunRecord.status == RUNNING)
                .values(status=INTERRUPTED, finished_at=utcnow(),
                        summary={**(record.summary or {}), "interrupted": reason}))
        if getattr(result, "rowcount", 1):
            closed.append(record.id)
    return closed


def of_connection(connection: str) -> Match:
    """Runs of one connection (``summary.connection``: an import)."""
    return lambda record: (record.summary or {}).get("connection") == connection


def of_targets(targets: Sequence[str]) -> Match:
    """Runs writing one of ``targets`` (``summary.targets``; a run without the list writes
    them all: a sync from before lanes)."""
    wanted = set(targets)

    def match(record: SyncRunRecord) -> bool:
        theirs = (record.summary or {}).get("targets")
        return not isinstance(theirs, list) or bool(set(theirs) & wanted)
    return match
