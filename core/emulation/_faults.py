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

    *Lost answers* strike after the handler ran: ``lost_rate`` of the successful writes (and
    ``lose(times)`` the next ones) are applied and then answered 502 — a proxy timing out while
    the platform finished. The client cannot know, retries, and must not write twice.
    """

    rate: float = 0.0
    seed: int = 0
    kinds: Sequence[str] = ("500", "503", "429", "drop")
    """Fault kinds to draw from; plain strings (e.g. from ``--option fault_kinds=…``) are
    checked here, so every emulator rejects a typo the same way."""
    slow_seconds: float = 2.0
    retry_after: float = 0.5
    lost_rate: float = 0.0

    def __post_init__(self) -> None:
        for name, rate in (("fault rate", self.rate), ("lost-answer rate", self.lost_rate)):
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, not {rate}")
        if not self.kinds:
            raise ValueError("at least one fault kind is needed")
        self.kinds = tuple(_checked(kind) for kind in self.kinds)
        self._random = random.Random(self.seed)
        self._forced: deque[FaultKind] = deque()
        self._lost_random = random.Random(f"lost-{self.seed}")  # its own: draws stay stable
        self._lose: deque[int] = deque()
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


    def lose(self, times: int = 1, status: int = 502) -> None:
        """Apply the next ``times`` successful writes, then answer them ``status``."""
        with self._lock:
            self._lose.extend([status] * times)

    @property
    def lose_pending(self) -> int:
        with self._lock:
            return len(self._lose)

    def draw_lost(self) -> int | None:
        """The status to answer a successful write with instead of its result, if any."""
        with self._lock:
            if self._lose:
                return self._lose.popleft()
            if self.lost_rate and self._lost_random.random() < self.lost_rate:
                return 502
            return None


def _checked(kind: str) -> FaultKind:
    if kind not in ALL_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; choose from {', '.join(ALL_KINDS)}")
    return kind
