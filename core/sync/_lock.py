"""One sync run per store and target at a time.

Two runs writing the same target would plan the same changes and race its target state; runs
of different targets (the per-target lanes Celery workers run side by side) may overlap. A
run holds one lock per target it writes, taken in name order; without targets, the store's.
Each is a :func:`shoploop.store.exclusive_lock` (an advisory lock on PostgreSQL, ``flock`` on
SQLite; freed when the process dies).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

from shoploop.hooks import ShoploopError
from shoploop.store import exclusive_lock

_PG_SYNC_LOCK = 0x5B05C01  # int4: the two-key form of the advisory lock


class SyncAlreadyRunning(ShoploopError):
    """Another sync run holds the store's lock."""

    error_code = "sync_running"


@contextmanager
def exclusive_run(store: Any, targets: Sequence[str] = ()) -> Iterator[None]:
    if not targets:
        with exclusive_lock(store, key=_PG_SYNC_LOCK, file_suffix="sync-lock", busy=_busy):
            yield
        return
    with ExitStack() as locks:
        for target in sorted(set(targets)):  # try-locks: a busy one fails at once, no deadlock
            locks.enter_context(exclusive_lock(store, key=_PG_SYNC_LOCK,
                                               file_suffix="sync-lock", busy=_busy,
                                               scope=target))
        yield


@contextmanager
def exclusive_binding(store: Any) -> Iterator[None]:
    """One fan-out at a time binds the masters' customers (:mod:`._fanout`): two would give
    one customer two internal ids and one of them would fail on the unique binding."""
    with exclusive_lock(store, key=_PG_SYNC_LOCK, file_suffix="bind-lock",
                        busy=_binding_busy, scope=":bind-masters"):
        yield


def _binding_busy() -> SyncAlreadyRunning:
    return SyncAlreadyRunning(
        "another sync fan-out is binding this store's master customers",
        remedy="wait for it to finish: its lanes sync the same targets (`shoploop jobs "
               "status`); a Celery fan-out retries by itself")


def _busy() -> SyncAlreadyRunning:
    return SyncAlreadyRunning(
        "another `shoploop sync customers` is running against a target of this run in this "
        "store",
        remedy="wait for it to finish (see `shoploop sync history`); schedule runs so they "
               "do not overlap (docs/sync.md#scheduling)")
