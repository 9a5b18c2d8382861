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


def _group_starts(keys: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Start positions of the runs of equal values in a sorted array."""
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))).astype(np.int64)


def fit_intervals(order_customer: npt.NDArray[np.int32], order_day: npt.NDArray[np.int32],
                  line_order: npt.NDArray[np.int32], line_product: npt.NDArray[np.int32],
                  n_customers: int, n_products: int, *, min_repeats: int) -> Intervals:
    customer = order_customer[line_order].astype(np.int64)
    known = customer >= 0  # guest orders have no customer to remind
    customer, product = customer[known], line_product[known].astype(np.int64)
    day = order_day[line_order][known].astype(np.int64)
    # One purchase per (customer, product, day), sorted by customer, product, day.
    pair = customer * n_products + product
    span = int(day.max() - day.min() + 1) if len(day) else 1
    unique = np.unique(pair * span + (day - (day.min() if len(day) else 0)))
    pair, day_offset = unique // span, unique % span
    starts = _group_starts(pair)
    counts = np.diff(np.concatenate((starts, [len(pair)])))
    repeated = counts >= min_repeats
    # Intervals between consecutive days of the same pair.
    gaps = np.diff(day_offset)
    same = pair[1:] == pair[:-1]
    gap_pair, gaps = pair[1:][same], gaps[same]
    # Sort gaps by (pair, gap) for grouped medians.
    order = np.lexsort((gaps, gap_pair))
    gap_pair, gaps = gap_pair[order], gaps[order].astype(np.float64)
    gap_starts = _group_starts(gap_pair)
    gap_counts = np.diff(np.concatenate((gap_starts, [len(gap_pair)])))
    low = gap_starts + (gap_counts - 1) // 2
    high = gap_starts + gap_counts // 2
    median = (gaps[low] + gaps[high]) / 2 if len(gaps) else np.zeros(0)
    deviation = np.abs(gaps - np.repeat(median, gap_counts))
    mad = np.add.reduceat(deviation, gap_starts) / gap_counts if len(gaps) else np.zeros(0)
    # Pairs with gaps are exactly the pairs with >= 2 days, in the same (sorted) order.
    with_gaps = counts >= 2
    last = np.concatenate((starts[1:], [len(pair)])) - 1
    last_day = day_offset[last] + (day.min() if len(day) else 0)
    keep_in_gapped = repeated[with_gaps]
    group_pair = pair[starts][with_gaps][keep_in_gapped]
    median = median[keep_in_gapped]
    mad = mad[keep_in_gapped]
    last_day = last_day[with_gaps][keep_in_gapped]
    orders = counts[with_gaps][keep_in_gapped]
    positive = median > 0
    group_pair, median, mad = group_pair[positive], median[positive], mad[positive]
    last_day, orders = last_day[positive], orders[positive]
    group_customer = group_pair // n_products
    indptr = np.concatenate(([0], np.cumsum(np.bincount(group_customer,
                                                        minlength=n_customers))))
    return Intervals(indptr=indptr.astype(np.int64),
                     product=(group_pair % n_products).astype(np.int32),
                     median_days=median.astype(np.float32), last_day=last_day.astype(np.int32),
                     orders=orders.astype(np.int32),
                     regularity=(1.0 / (1.0 + mad / median)).astype(np.float32))


def due_score(since: float, median: float, regularity: float, *, due_window: float,
              lapsed_after: float) -> float | None:
    """How due a product is ``since`` days after the last order (0…1), or None when it is not
    due yet or no longer (lapsed)."""
    if median <= 0 or since < (1 - due_window) * median or since > lapsed_after * median:
        return None
    return float(regularity * min(since / median, 1.0))
