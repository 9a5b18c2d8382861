"""One sync run per store at a time.

Two runs over the same store would plan the same changes and race each other's target
state. The lock is the store's :func:`shoploop.store.exclusive_lock` (an advisory lock on
PostgreSQL, ``flock`` on SQLite; freed when the process dies).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from shoploop.hooks import ShoploopError
from shoploop.store import exclusive_lock

_PG_SYNC_LOCK = 0x5B05C01  # int4: the two-key form of the advisory lock


class SyncAlreadyRunning(ShoploopError):
    """Another sync run holds the store's lock."""

    error_code = "sync_running"


@contextmanager
def exclusive_run(store: Any) -> Iterator[None]:
    with exclusive_lock(store, key=_PG_SYNC_LOCK, file_suffix="sync-lock", busy=_busy):
        yield


def _busy() -> SyncAlreadyRunning:
    return SyncAlreadyRunning(
        "another `shoploop sync customers` is running against this store",
        remedy="wait for it to finish (see `shoploop sync history`); schedule runs so they "
               "do not overlap (docs/sync.md#scheduling)")
