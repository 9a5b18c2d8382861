"""Thread-safe counters every emulator keeps and serves at ``GET /_emulator/stats``."""

from __future__ import annotations

import threading
from collections import Counter


class EmulatorStats:
    """Named counters. The standard ones: ``requests``, ``writes``, ``throttled``, ``faulted``,
    ``connections``; an emulator may add its own (``cost``, ``bulk_operations``, …)."""

    STANDARD = ("requests", "writes", "throttled", "faulted", "connections")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter(dict.fromkeys(self.STANDARD, 0))

    def incr(self, name: str, amount: int | float = 1) -> None:
        with self._lock:
            self._counts[name] += amount  # type: ignore[assignment]

    def get(self, name: str) -> int | float:
        with self._lock:
            return self._counts[name]

    def snapshot(self) -> dict[str, int | float]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts = Counter(dict.fromkeys(self.STANDARD, 0))
