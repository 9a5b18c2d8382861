"""*Buy again / replenish*: each customer's own purchase interval per product.

A customer who bought a product on at least ``min_repeats`` different days has intervals
between those days; their median is how often they buy it, their mean absolute deviation
from the median how regular they are. At request time a product is *due* when the days since
the last order reach ``(1 - due_window)`` of the median, and no longer due after
``lapsed_after`` medians (the customer stopped buying it). The medians come from
``_purchase_days``' one sort of the lines, not a Python loop per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._purchase_days import PurchaseDays


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


def fit_intervals(days: PurchaseDays, n_customers: int, *, min_repeats: int) -> Intervals:
    """The pairs of ``days`` bought on at least ``min_repeats`` days (``_purchase_days``'s
    one sort of the lines: the medians and spreads are already there)."""
    pairs = days.pairs
    wanted = np.flatnonzero(pairs.count >= min_repeats)
    median = pairs.median_gap[wanted]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(days.customer[wanted],
                                                        minlength=n_customers))))
    return Intervals(indptr=indptr.astype(np.int64), product=days.product[wanted],
                     median_days=median.astype(np.float32),
                     last_day=days.last_day[wanted],
                     orders=pairs.count[wanted].astype(np.int32),
                     regularity=(1.0 / (1.0 + pairs.spread[wanted] / median)).astype(np.float32))


def due_score(since: float, median: float, regularity: float, *, due_window: float,
              lapsed_after: float) -> float | None:
    """How due a product is ``since`` days after the last order (0…1), or None when it is not
    due yet or no longer (lapsed)."""
    if median <= 0 or since < (1 - due_window) * median or since > lapsed_after * median:
        return None
    return float(regularity * min(since / median, 1.0))
