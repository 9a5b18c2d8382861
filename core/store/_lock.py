"""One job of a kind per store at a time: a lock the operating system or the server frees.

PostgreSQL: a session-level advisory lock (two keys: the job's, and the schema's hash — several
stores may share one database) held on a dedicated connection for the whole run; SQLite:
``flock`` on a file next to the database. Both are released when the process dies, so a
SIGKILLed job never leaves a stale lock — and whoever holds the lock knows any run of that job
still marked ``running`` is dead. Used by ``sync`` and ``reco publish``, each with its key.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text


@contextmanager
def exclusive_lock(store: Any, *, key: int, file_suffix: str,
                   busy: Callable[[], BaseException], scope: str = "") -> Iterator[None]:
    """Hold the lock ``key`` (PostgreSQL, an int4) / ``<database>.<file_suffix>`` (SQLite) for
    the ``with`` block; raise ``busy()`` at once if another process holds it. A ``scope`` (a
    target's name) makes it one lock of several of that key: one per scope."""
    if store.backend == "postgresql":
        with store.connect() as connection:
            held = connection.execute(text(
                "SELECT pg_try_advisory_lock(:k, hashtext(current_schema() || :s))"),
                {"k": key, "s": f"/{scope}" if scope else ""}).scalar()
            if not held:
                raise busy()
            try:
                yield
            finally:
                connection.execute(text(
                    "SELECT pg_advisory_unlock(:k, hashtext(current_schema() || :s))"),
                    {"k": key, "s": f"/{scope}" if scope else ""})
                connection.commit()
        return
    database = store.engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory store: nobody else can run against it
        return
    suffix = f"{file_suffix}-{scope}" if scope else file_suffix
    descriptor = os.open(f"{database}.{suffix}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise busy() from None
        yield
    finally:
        os.close(descriptor)  # closing releases the flock
