"""The known customers' order lines as one sorted table of distinct purchase days.

*Buy again* (``_repeats``), the purchase intervals (``_intervals``), who bought what
(``_purchases``) and the segments' buyers (``_segments``) all group the same lines by
(customer, product), then day. Each sorting them on its own was most of the fit (about 33 s of
the B2B bench's 1M orders, 20M lines, in four sorts and a ``lexsort``); :func:`purchase_days`
sorts them once and :func:`day_runs` derives every per-pair figure those fits read — days,
last days, median gaps with and without the last one, spread — with one more sort of the gaps.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def runs(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Start positions and lengths of the runs of equal values in a sorted array."""
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))).astype(np.int64)
    return starts, np.diff(np.concatenate((starts, [len(keys)])))


@dataclass(frozen=True)
class DayRuns:
    """Per group present (ascending) in a table sorted by group, then day, distinct: its days
    and the gaps between them."""

    group: IntArray
    count: IntArray
    """Distinct days."""
    last: IntArray
    before_last: IntArray
    """The day before the last one; -1 with one day."""
    median_gap: FloatArray
    """The median gap between consecutive days; 0 with one day."""
    median_gap_before_last: FloatArray
    """The median gap without the last one (the history before a held-back "next order");
    0 with fewer than three days."""
    spread: FloatArray
    """The gaps' mean absolute deviation from ``median_gap``; 0 with one day."""


def day_runs(group: IntArray, day: IntArray) -> DayRuns:
    """The :class:`DayRuns` of ``group`` and ``day``, sorted by group, then day, distinct."""
    return _day_runs(group, day, group[1:] != group[:-1], np.diff(day))


def _day_runs(group: IntArray, day: IntArray, new: npt.NDArray[np.bool_],
              step: IntArray) -> DayRuns:
    """:func:`day_runs` given ``new`` (``group[1:] != group[:-1]``) and ``step`` — any array
    equal to ``np.diff(day)`` where ``new`` is False (a packed key's own ``np.diff`` will do).

    Grouped medians by one sort of the gaps: the key ``(run, gap, is the run's last gap)``
    orders each run's gaps by value and marks where its last gap landed, so the median
    without it is read off the same sorted run (its positions shift by one past the mark)."""
    starts = np.flatnonzero(np.concatenate(([True], new))) if len(group) \
        else np.zeros(0, dtype=np.int64)
    n = len(starts)
    counts = np.diff(np.concatenate((starts, [len(group)])))
    ends = starts + counts - 1
    last = day[ends]
    before_last = np.where(counts >= 2, day[np.maximum(ends - 1, 0)], -1) if n else ends
    gaps = counts - 1
    median = np.zeros(n, dtype=np.float64)
    earlier = np.zeros(n, dtype=np.float64)
    spread = np.zeros(n, dtype=np.float64)
    if n == 0 or not gaps.any():
        return DayRuns(group=group[starts], count=counts, last=last, before_last=before_last,
                       median_gap=median, median_gap_before_last=earlier, spread=spread)
    gap = step[~new]
    some = np.flatnonzero(gaps >= 1)
    gap_run = np.repeat(some, gaps[some])  # gaps are in run order
    # (run, gap, last-of-run) packed into one integer: a sort of it is a lexicographic sort.
    gap_bits = int(gap.max()).bit_length()
    key = gap_run << (gap_bits + 1)
    key |= gap << 1
    key[np.cumsum(gaps[some]) - 1] |= 1
    key.sort()
    value = ((key >> 1) & ((1 << gap_bits) - 1)).astype(np.float64)
    mark = np.flatnonzero(key & 1)  # one mark per run with gaps, in run order
    del key
    s = np.concatenate(([0], np.cumsum(gaps[some])[:-1]))  # each run's first sorted gap
    c = gaps[some]
    median[some] = (value[s + (c - 1) // 2] + value[s + c // 2]) / 2
    # Without the last gap: c - 1 gaps; sorted position i is i, or i + 1 past the mark.
    mark -= s
    two = c >= 2
    s, c, mark = s[two], c[two], mark[two]
    low, high = (c - 2) // 2, (c - 1) // 2
    earlier[some[two]] = (value[s + low + (low >= mark)] + value[s + high + (high >= mark)]) / 2
    deviation = np.abs(gap - median[gap_run])
    spread[some] = np.bincount(gap_run, weights=deviation, minlength=n)[some] / gaps[some]
    return DayRuns(group=group[starts], count=counts, last=last, before_last=before_last,
                   median_gap=median, median_gap_before_last=earlier, spread=spread)


@dataclass(frozen=True)
class PurchaseDays:
    """Per (customer, product) pair a known customer bought — ``pair = customer · width +
    product``, ascending — its purchase days (counted from ``first``)."""

    width: int
    first: int
    pairs: DayRuns

    @property
    def customer(self) -> IntArray:
        return self.pairs.group // self.width

    @property
    def product(self) -> IntArray:
        return self.pairs.group % self.width


def purchase_days(order_customer: npt.NDArray[np.int32], order_day: npt.NDArray[np.int32],
                  line_order: npt.NDArray[np.int32], line_product: npt.NDArray[np.int32],
                  n_products: int) -> PurchaseDays:
    """One sort of the lines of known customers (guest orders have nobody to remind) into
    distinct (customer, product, day) purchases, and their :class:`DayRuns` per pair."""
    width = max(n_products, 1)
    first = int(order_day.min()) if len(order_day) else 0
    span = int(order_day.max()) - first + 1 if len(order_day) else 1
    # (customer, product, day) packed into the bits of one int64: shifts and masks, not
    # divisions, take it apart, and its sort is the lexicographic sort. The order's part is
    # packed per order, so the lines need one gather.
    day_bits, product_bits = (span - 1).bit_length(), (width - 1).bit_length()
    if (max(int(order_customer.max()), 0) if len(order_customer) else 0).bit_length() \
            + product_bits + day_bits > 62:
        raise ValueError(f"the fit's purchase key: {int(order_customer.max()) + 1} customers, "
                         f"{width} products and {span} days do not fit in 62 bits; fit a "
                         "shorter history (fewer days) or fewer customers at a time")
    known = order_customer >= 0
    order_key = order_customer.astype(np.int64) << (product_bits + day_bits)
    order_key |= order_day - first
    key = order_key[line_order]
    key |= line_product.astype(np.int64) << day_bits
    if not known.all():
        key = key[known[line_order]]
    key.sort()
    new = key[1:] != key[:-1]
    distinct = key[np.concatenate(([True], new))] if len(key) else key
    del key, new
    pair = distinct >> day_bits
    step = np.diff(distinct)  # the day's difference wherever the pair is the same
    pairs = _day_runs(pair, distinct & ((1 << day_bits) - 1), pair[1:] != pair[:-1], step)
    # The pairs as the fits read them: customer · width + product.
    group = (pairs.group >> product_bits) * width + (pairs.group & ((1 << product_bits) - 1))
    return PurchaseDays(width=width, first=first, pairs=dataclasses.replace(pairs, group=group))
