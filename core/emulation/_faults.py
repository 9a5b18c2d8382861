"""Faults on demand: a seeded random share of requests fails the way real platforms fail."""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

FaultKind = Literal["500", "502", "503", "429", "slow", "drop"]
ALL_KINDS: tuple[FaultKind, ...] = ("500", "502", "503", "429", "slow", "drop")


@dataclass
class FaultPlan:
    """``rate`` of requests (0..1) get a fault drawn from ``kinds``; deterministic per ``seed``.

    ``force(kind, times)`` queues exact faults for the next requests (tests that need one
    specific failure). ``slow`` answers after ``slow_seconds`` (clients must time out);
    ``drop`` closes the connection without answering; ``429`` carries ``Retry-After``.
    """

    rate: float = 0.0
    seed: int = 0
    kinds: Sequence[str] = ("500", "503", "429", "drop")
    """Fault kinds to draw from; plain strings (e.g. from ``--option fault_kinds=…``) are
    checked here, so every emulator rejects a typo the same way."""
    slow_seconds: float = 2.0
    retry_after: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, not {self.rate}")
        if not self.kinds:
            raise ValueError("at least one fault kind is needed")
        self.kinds = tuple(_checked(kind) for kind in self.kinds)
        self._random = random.Random(self.seed)
        self._forced: deque[FaultKind] = deque()
        self._lock = threading.Lock()

    def force(self, kind: str, times: int = 1) -> None:
        checked = _checked(kind)
        with self._lock:
            self._forced.extend([checked] * times)

    def draw(self) -> FaultKind | None:
        with self._lock:
            if self._forced:
                return self._forced.popleft()
            if self.rate and self._random.random() < self.rate:
                return cast(FaultKind, self._random.choice(self.kinds))
            return None


def _checked(kind: str) -> FaultKind:
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(ALL_KINDS)}")
    return kind
