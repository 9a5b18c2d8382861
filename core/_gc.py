"""Pause Python's cyclic garbage collector around one bounded, allocation-heavy step.

A mirror page holds a thousand freshly parsed records (tens of thousands of objects) from the
read until its upsert has committed. Every 700 net allocations the collector runs, scans all
of them again because they are still alive, promotes them, and every few pages rescans the
whole heap (gen 2): a fifth of the mirror's CPU (docs/sync.md#speed-of-the-mirror-and-the-store).
Reference counting frees the page's objects once the page is done, so with the collector
paused for the page's duration almost nothing is left for it to do.

``gc.disable()``/``gc.enable()`` are process-wide, so the pause is counted: nested or
concurrent pauses (threads) keep the collector off until the last one ends, and only then
restore what it was before the first (a collector someone else disabled stays disabled).
Pause only a step that is bounded (one page): cyclic garbage made meanwhile, in any thread,
waits until the step ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic cyclic collection inside the block (reference counting still frees)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
