"""*Buy again / replenish*: each customer's own purchase interval per product.

A customer who bought a product on at least ``min_repeats`` different days has intervals
between those days; their median is how often they buy it, their mean absolute deviation
from the median how regular they are. At request time a product is *due* when the days since
the last order reach ``(1 - due_window)`` of the median, and no longer due after
``lapsed_after`` medians (the customer stopped buying it). Grouped medians are computed with
sorts, not a Python loop per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._arrays import unique_sorted


@dataclass(frozen=True)
class Intervals:
    """Per customer (CSR-style over ``indptr``), the products they buy repeatedly."""

    indptr: npt.NDArray[np.int64]
    product: npt.NDArray[np.int32]
    median_days: npt.NDArray[np.float32]
    last_day: npt.NDArray[np.int32]
    orders: npt.NDArray[np.int32]
    """Days the customer ordered the product on."""
    regularity: npt.NDArray[np.float32]
    """1 / (1 + mean absolute deviation / median): 1 for a perfectly regular buyer."""

    def of(self, customer: int) -> slice:
        return slice(int(self.indptr[customer]), int(self.indptr[customer + 1]))


def _runs(keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Start positions and lengths of the runs of equal values in a sorted array."""
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))).astype(np.int64)
    return starts, np.diff(np.concatenate((starts, [len(keys)])))


def fit_intervals(order_customer: npt.NDArray[np.int32], order_day: npt.NDArray[np.int32],
                  line_order: npt.NDArray[np.int32], line_product: npt.NDArray[np.int32],
                  n_customers: int, n_products: int, *, min_repeats: int) -> Intervals:
    customer = order_customer[line_order].astype(np.int64)
    known = customer >= 0  # guest orders have no customer to remind
    product = line_product[known].astype(np.int64)
    day = order_day[line_order][known].astype(np.int64)
    first_day = int(day.min()) if len(day) else 0
    span = int(day.max()) - first_day + 1 if len(day) else 1

    # 1. One purchase per (customer, product, day), sorted by pair, then day: one sort.
    purchases = unique_sorted((customer[known] * n_products + product) * span
                              + (day - first_day))
    pair, day = purchases // span, purchases % span + first_day
    starts, days_bought = _runs(pair)
    wanted = days_bought >= min_repeats
    last_day = day[(starts + days_bought - 1)[wanted]]
    pairs, days_bought = pair[starts][wanted], days_bought[wanted]

    # 2. The gaps between consecutive purchase days of the wanted pairs, sorted within each
    #    pair, so each pair's median is the middle of its run (grouped median by one sort).
    consecutive = pair[1:] == pair[:-1]
    gap_pair, gap = pair[1:][consecutive], np.diff(day)[consecutive]
    keep = np.isin(gap_pair, pairs)
    gap_pair, gap = gap_pair[keep], gap[keep].astype(np.float64)
    order = np.lexsort((gap, gap_pair))
    gap_pair, gap = gap_pair[order], gap[order]
    gap_starts, gap_counts = _runs(gap_pair)  # one run per wanted pair, in the same order
    median = (gap[gap_starts + (gap_counts - 1) // 2] + gap[gap_starts + gap_counts // 2]) / 2
    deviation = np.abs(gap - np.repeat(median, gap_counts))
    spread = (np.add.reduceat(deviation, gap_starts) / gap_counts if len(gap)
              else np.zeros(0))

    indptr = np.concatenate(([0], np.cumsum(np.bincount(pairs // n_products,
                                                        minlength=n_customers))))
    return Intervals(indptr=indptr.astype(np.int64),
                     product=(pairs % n_products).astype(np.int32),
                     median_days=median.astype(np.float32), last_day=last_day.astype(np.int32),
                     orders=days_bought.astype(np.int32),
                     regularity=(1.0 / (1.0 + spread / median)).astype(np.float32))


def due_score(since: float, median: float, regularity: float, *, due_window: float,
              lapsed_after: float) -> float | None:
    """How due a product is ``since`` days after the last order (0…1), or None when it is not
    due yet or no longer (lapsed)."""
    if median <= 0 or since < (1 - due_window) * median or since > lapsed_after * median:
        return None
    return float(regularity * min(since / median, 1.0))
