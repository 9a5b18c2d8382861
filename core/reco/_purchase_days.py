"""The known customers' order lines as one sorted table of distinct purchase days.

*Buy again* (``_repeats``), the purchase intervals (``_intervals``), who bought what
(``_purchases``) and the segments' buyers (``_segments``) all group the same lines by
(customer, product), then day. Each sorting them on its own was most of the fit (about 33 s of
the B2B bench's 1M orders, 20M lines, in four sorts and a ``lexsort``); :func:`purchase_days`
sorts them once and :func:`day_runs` derives every per-pair figure those fits read — days,
last days, median gaps with and without the last one, spread — with one more sort of the gaps.
"""

from __future__ import annotations

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
    and the gaps between them. Days count from the table's first day (int32: a 32-bit
    history of days); medians of whole days are halves, exact in float32."""

    count: npt.NDArray[np.int32]
    """Distinct days."""
    last: npt.NDArray[np.int32]
    before_last: npt.NDArray[np.int32]
    """The day before the last one; -1 with one day."""
    median_gap: npt.NDArray[np.float32]
    """The median gap between consecutive days; 0 with one day."""
    median_gap_before_last: npt.NDArray[np.float32]
    """The median gap without the last one (the history before a held-back "next order");
    0 with fewer than three days."""
    spread: FloatArray
    """The gaps' mean absolute deviation from ``median_gap``; 0 with one day."""


def day_runs(group: IntArray, day: IntArray) -> tuple[IntArray, DayRuns]:
    """The groups present and their :class:`DayRuns`, of ``group`` and ``day`` (non-negative)
    sorted by group, then day, distinct."""
    bits = int(day.max()).bit_length() if len(day) else 0
    return packed_day_runs((group << bits) | day, bits)


def packed_day_runs(key: IntArray, day_bits: int) -> tuple[IntArray, DayRuns]:
    """:func:`day_runs` of ``key = group << day_bits | day``, sorted and distinct — lean on
    memory (the B2B bench has 17M purchases): no separate group, day or gap arrays of the
    purchases' length.

    Grouped medians by one sort of the gaps: the key ``(run, gap, is the run's last gap)``
    orders each run's gaps by value and marks where its last gap landed, so the median
    without it is read off the same sorted run (its positions shift by one past the mark)."""
    mask = (1 << day_bits) - 1
    if len(key) == 0:
        empty = np.zeros(0, dtype=np.int32)
        return np.zeros(0, dtype=np.int64), DayRuns(
            count=empty, last=empty, before_last=empty, median_gap=empty.astype(np.float32),
            median_gap_before_last=empty.astype(np.float32), spread=np.zeros(0))
    # Same group: the keys differ in the day's bits only.
    same = (key[1:] ^ key[:-1]) <= mask
    starts = np.flatnonzero(np.concatenate(([True], ~same)))
    n = len(starts)
    ends = np.append(starts[1:], len(key)) - 1
    counts = (ends - starts + 1).astype(np.int32)
    group = key[starts] >> day_bits
    del starts
    last = (key[ends] & mask).astype(np.int32)
    before_last = np.where(counts >= 2, key[np.maximum(ends - 1, 0)] & mask, -1) \
        .astype(np.int32)
    del ends
    gaps = counts - 1
    median = np.zeros(n, dtype=np.float32)
    earlier = np.zeros(n, dtype=np.float32)
    spread = np.zeros(n, dtype=np.float64)
    runs = DayRuns(count=counts, last=last, before_last=before_last, median_gap=median,
                   median_gap_before_last=earlier, spread=spread)
    within = np.flatnonzero(same)
    del same
    if len(within) == 0:
        return group, runs
    gap = key[within + 1] - key[within]  # the day's difference: the group's bits are equal
    del within
    some = np.flatnonzero(gaps >= 1)
    c = gaps[some].astype(np.int64)
    gap_run = np.repeat(some, c)  # gaps are in run order
    # (run, gap, last-of-run) packed into one integer: a sort of it is a lexicographic sort.
    gap_bits = int(gap.max()).bit_length()
    ordered = gap_run << (gap_bits + 1)
    ordered |= gap << 1
    ordered[np.cumsum(c) - 1] |= 1
    ordered.sort()
    value = ((ordered >> 1) & ((1 << gap_bits) - 1)).astype(np.float64)
    mark = np.flatnonzero(ordered & 1)  # one mark per run with gaps, in run order
    del ordered
    s = np.concatenate(([0], np.cumsum(c)[:-1]))  # each run's first sorted gap
    full = (value[s + (c - 1) // 2] + value[s + c // 2]) / 2
    median[some] = full
    # Without the last gap: c - 1 gaps; sorted position i is i, or i + 1 past the mark.
    mark -= s
    two = c >= 2
    s, c2, mark = s[two], c[two], mark[two]
    low, high = (c2 - 2) // 2, (c2 - 1) // 2
    earlier[some[two]] = (value[s + low + (low >= mark)] + value[s + high + (high >= mark)]) / 2
    deviation = np.abs(gap - np.repeat(full, c))
    spread[some] = np.add.reduceat(deviation, np.concatenate(([0], np.cumsum(c)[:-1]))) / c
    return group, runs


@dataclass(frozen=True)
class PurchaseDays:
    """Per (customer, product) pair a known customer bought — ascending by customer, then
    product — its purchase days (counted from ``first``)."""

    width: int
    first: int
    customer: npt.NDArray[np.int32]
    product: npt.NDArray[np.int32]
    last_day: npt.NDArray[np.int32]
    """The day the pair was last bought (``_days.day_of``): *buy again*'s and *already
    bought*'s, one array."""
    pairs: DayRuns


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
    if len(key):
        key = key[np.concatenate(([True], key[1:] != key[:-1]))]
    group, pairs = packed_day_runs(key, day_bits)
    del key
    return PurchaseDays(width=width, first=first,
                        customer=(group >> product_bits).astype(np.int32),
                        product=(group & ((1 << product_bits) - 1)).astype(np.int32),
                        last_day=(pairs.last + first).astype(np.int32), pairs=pairs)
