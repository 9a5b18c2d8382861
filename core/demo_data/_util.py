"""Small deterministic helpers: seeded RNGs, the time window, money and time formatting."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import accumulate

DAY = 86_400


def derive_rng(seed: int, *labels: object) -> random.Random:
    """An independent generator per purpose and entity.

    ``random.Random`` hashes a *string* seed with SHA-512 (deterministic across runs and
    platforms, unlike ``hash()``), so customer 17 of seed 1 is the same person whatever the
    other parameters are, and seeds never collide the way ``seed`` and ``-seed`` would.
    """
    return random.Random("shoploop-demo/" + "/".join(str(x) for x in (seed, *labels)))


@dataclass(frozen=True, slots=True)
class Window:
    """Orders are placed in ``[start_ts, end_ts)``: ``years`` years up to ``as_of`` 00:00 UTC."""

    as_of: date
    start: date
    start_ts: int
    end_ts: int

    @classmethod
    def of(cls, as_of: date, years: int) -> Window:
        try:
            start = as_of.replace(year=as_of.year - years)
        except ValueError:  # 29 February
            start = as_of.replace(year=as_of.year - years, day=28)
        return cls(as_of, start, day_ts(start), day_ts(as_of))

    @property
    def days(self) -> int:
        return (self.end_ts - self.start_ts) // DAY


_EPOCH = date(1970, 1, 1)


def day_ts(d: date) -> int:
    """Seconds since the epoch of ``d`` 00:00 UTC."""
    return (d - _EPOCH).days * DAY


def ts_date(ts: int) -> date:
    return _EPOCH + timedelta(days=ts // DAY)


_DAY_PREFIX: dict[int, str] = {}
_TIME_OF_DAY: list[str] = []


def iso(ts: int) -> str:
    """ISO 8601 with an explicit ``+00:00`` — what ``datetime.isoformat()`` gives, five times
    faster: the date part is cached per day, the time part comes from a table of 86,400."""
    if not _TIME_OF_DAY:
        _TIME_OF_DAY.extend(f"{h:02d}:{m:02d}:{s:02d}+00:00"
                            for h in range(24) for m in range(60) for s in range(60))
    day, sec = divmod(ts, DAY)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = (_EPOCH + timedelta(days=day)).isoformat() + "T"
    return prefix + _TIME_OF_DAY[sec]


def iso_date(ts: int) -> str:
    return ts_date(ts).isoformat()


def money(cents: int) -> str:
    """``1990`` → ``"19.90"`` (two places, as a string so Decimal parses it exactly)."""
    return f"{cents // 100}.{cents % 100:02d}"


def below(rng: random.Random, n: int) -> int:
    """A uniform integer in ``[0, n)``; ``randrange`` costs 20x more and we call it millions of
    times. (53-bit floats make the bias negligible for the ranges used here.)"""
    return int(rng.random() * n)


def between(rng: random.Random, a: int, b: int) -> int:
    """A uniform integer in ``[a, b]``."""
    return a + int(rng.random() * (b - a + 1))


def geometric(rng: random.Random, mean: float) -> int:
    """A count ≥ 0 with the given mean (geometric distribution)."""
    if mean <= 0:
        return 0
    p = 1.0 / (1.0 + mean)
    return int(math.log(1.0 - rng.random()) / math.log(1.0 - p))


class Picker:
    """Weighted choice over ``0..n-1`` by bisection of cumulative weights (O(log n) a pick)."""

    __slots__ = ("cum", "total")

    def __init__(self, weights: Sequence[float]) -> None:
        if not weights or sum(weights) <= 0:
            raise ValueError("a Picker needs at least one positive weight")
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1]
        # rounding can make ``random() * total`` equal ``total``; never step past the end
        self.cum[-1] = math.inf

    def pick(self, rng: random.Random) -> int:
        return bisect_right(self.cum, rng.random() * self.total)


