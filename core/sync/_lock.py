"""One sync run per store at a time.

Two runs over the same store would plan the same changes and race each other's target
state. PostgreSQL: a session-level advisory lock held on a dedicated connection for the whole
run; SQLite: ``flock`` on a file next to the database. Both are released by the operating
system or the server when the process dies, so a SIGKILLed run never leaves a stale lock —
and whoever holds the lock knows any run still marked ``running`` is dead.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text

from shoploop.hooks import ShoploopError

_PG_SYNC_LOCK = 0x5B05C01  # int4: the two-key form of the advisory lock


class SyncAlreadyRunning(ShoploopError):
    """Another sync run holds the store's lock."""

    error_code = "sync_running"


@contextmanager
def exclusive_run(store: Any) -> Iterator[None]:
    if store.backend == "postgresql":
        with store.connect() as connection:
            # Keyed by schema too: several stores may share one database.
            held = connection.execute(text(
                "SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                {"k": _PG_SYNC_LOCK}).scalar()
            if not held:
                raise _busy()
            try:
                yield
            finally:
                connection.execute(text(
                    "SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"),
                    {"k": _PG_SYNC_LOCK})
                connection.commit()
        return
    database = store.engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory store: nobody else can run against it
        return
    descriptor = os.open(f"{database}.sync-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise _busy() from None
        yield
    finally:
        os.close(descriptor)  # closing releases the flock


def _busy() -> SyncAlreadyRunning:
    return SyncAlreadyRunning(
        "another `shoploop sync customers` is running against this store",
        remedy="wait for it to finish (see `shoploop sync history`); schedule runs so they "
               "do not overlap (docs/sync.md#scheduling)")
