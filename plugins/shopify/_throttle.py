"""A per-shop throttle driven by what Shopify reports, not by fixed sleeps.

Every GraphQL answer carries ``extensions.cost.throttleStatus`` (``maximumAvailable``,
``currentlyAvailable``, ``restoreRate``). From the last status and the time since, the throttle
knows how many points the bucket holds *now*; before a request it waits exactly as long as the
bucket needs to refill to the request's expected cost (the ``requestedQueryCost`` last seen for
the same operation) plus a reserve of ``1 - max_cost_share`` of the bucket, left for other apps
and for the operator's own tools. So requests flow at the restore rate once the burst is spent,
and ``THROTTLED`` answers stay rare: only when someone else drains the same bucket.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class BucketState:
    maximum: float
    available: float
    restore_rate: float
    stamp: float


class CostThrottle:
    """Shared by every request of one connector (one shop, one app). Thread-safe."""

    def __init__(self, max_cost_share: float = 0.8, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.share = max_cost_share
        self._clock = clock
        self._sleep = sleep
        self._state: BucketState | None = None
        self._expected: dict[str, float] = {}
        self._lock = threading.Lock()
        self.waited = 0.0
        """Seconds spent waiting for budget (for benchmarks and logs)."""

    @property
    def state(self) -> BucketState | None:
        return self._state

    def expected_cost(self, operation: str) -> float:
        return self._expected.get(operation, 0.0)

    def delay_for(self, operation: str) -> float:
        """Seconds to wait before ``operation`` may be sent; reserves its cost."""
        with self._lock:
            state, cost = self._state, self._expected.get(operation, 0.0)
            if state is None or state.restore_rate <= 0:
                return 0.0
            now = self._clock()
            available = min(state.maximum,
                            state.available + (now - state.stamp) * state.restore_rate)
            reserve = state.maximum * (1.0 - self.share)
            needed = min(cost + reserve, state.maximum)
            wait = max(0.0, (needed - available) / state.restore_rate)
            # Book the points now, so the next request (on this or another thread) waits for
            # its own share instead of racing this one for the same refill.
            state.available = available + wait * state.restore_rate - cost
            state.stamp = now + wait
            return wait

    def before(self, operation: str) -> None:
        wait = self.delay_for(operation)
        if wait > 0:
            self.waited += wait
            self._sleep(wait)

    def observe(self, operation: str, cost: dict[str, Any] | None) -> None:
        """Take the server's word for the bucket after an answer."""
        if not isinstance(cost, dict):
            return
        status = cost.get("throttleStatus")
        requested = cost.get("requestedQueryCost")
        with self._lock:
            if isinstance(requested, int | float):
                self._expected[operation] = float(requested)
            if isinstance(status, dict):
                try:
                    self._state = BucketState(float(status["maximumAvailable"]),
                                              float(status["currentlyAvailable"]),
                                              float(status["restoreRate"]), self._clock())
                except (KeyError, TypeError, ValueError):
                    return

    def throttled_wait(self, requested: float) -> float:
        """After a ``THROTTLED`` answer: seconds until ``requested`` points are back."""
        with self._lock:
            state = self._state
            if state is None or state.restore_rate <= 0:
                return 1.0
            missing = max(0.0, requested - state.available)
            return missing / state.restore_rate + 0.05


def backoff(attempt: int, *, base: float = 0.2, cap: float = 8.0,
            rng: random.Random | None = None) -> float:
    """Exponential backoff with full jitter (attempt 0 → up to ``base``)."""
    draw = (rng or random).random()
    return float(draw * min(cap, base * 2.0 ** attempt))
