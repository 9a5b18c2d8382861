"""*Buy again*: how likely each product a customer bought is in their next order.

Per (customer, product) the model keeps the orders holding the product, the day it was last
bought and its median interval (0 when bought on one day only); per customer the orders and
the median days between them. A product's **probability** of being in the customer's next
order is their (shrunk) purchase frequency ``orders_with / (orders + 1)`` times a **timing
factor** of ``days since the last purchase / interval`` — the product's own interval for that
customer, else the customer's usual days between orders. The factors are learned when the
model is fitted, from the history itself: each customer's last order is the "next order" of
the orders before it, and per bucket of that ratio the factor is the observed share of the
products in it that were bought, over the share frequency predicted (shrunk towards 1 with
``TIMING_PRIOR`` expected hits). So timing changes frequency only where the data shows it
matters: a product due again rises, one bought yesterday falls.

Only products some customer bought in two or more orders are candidates at all: a product
nobody ever bought twice (a television) is not bought again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._arrays import unique_sorted
from ._purchase_days import PurchaseDays, packed_day_runs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TIMING_EDGES = np.array([0.0, 0.25, 0.5, 0.8, 1.25, 2.0, 3.0, 5.0], dtype=np.float64)
"""Lower edges of the buckets of ``days since the last purchase / interval``: just bought,
…, due (0.8 to 1.25), overdue, long gone (5 and more)."""
TIMING_PRIOR = 10.0
"""Expected hits a bucket's factor is shrunk towards 1 with: a thin bucket stays near 1."""


@dataclass(frozen=True)
class Repeats:
    """Per customer (CSR over ``indptr``, products ascending) every product they bought."""

    indptr: npt.NDArray[np.int64]
    product: npt.NDArray[np.int32]
    orders_with: npt.NDArray[np.int32]
    """The customer's orders holding the product."""
    last_day: npt.NDArray[np.int32]
    median_days: npt.NDArray[np.float32]
    """The median days between the customer's purchases of it; 0 when bought on one day."""
    customer_orders: npt.NDArray[np.int32]
    """Per customer: their orders."""
    customer_gap: npt.NDArray[np.float32]
    """Per customer: the median days between their order days (0 with one order day)."""
    repurchased: npt.NDArray[np.bool_]
    """Per product: some customer bought it in two or more orders."""
    timing_own: npt.NDArray[np.float32]
    """Per bucket of :data:`TIMING_EDGES`: the factor for products with their own interval."""
    timing_usual: npt.NDArray[np.float32]
    """Per bucket: the factor for products bought on one day (ratio to the customer's gap)."""
    usual_gap: float
    """The median of the customers' gaps: the interval of a customer with one order day."""

    def of(self, customer: int) -> slice:
        return slice(int(self.indptr[customer]), int(self.indptr[customer + 1]))

    def probabilities(self, customer: int, today: int) -> tuple[slice, FloatArray]:
        """The customer's span and, per product in it, the estimated probability that it is
        in their next order on ``today`` (0 for products nobody buys twice)."""
        span = self.of(customer)
        since = np.maximum(today - self.last_day[span].astype(np.float64), 0.0)
        own = self.median_days[span].astype(np.float64)
        gap = float(self.customer_gap[customer]) or self.usual_gap
        base = np.where(own > 0, own, gap)
        bucket = _bucket(since, base)
        factor = np.where(own > 0, self.timing_own[bucket], self.timing_usual[bucket])
        frequency = self.orders_with[span] / (float(self.customer_orders[customer]) + 1.0)
        probability = np.minimum(frequency * factor, 1.0)
        return span, np.where(self.repurchased[self.product[span]], probability, 0.0)


def _bucket(since: FloatArray, base: FloatArray | float) -> IntArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(np.asarray(base) > 0, since / base, np.inf)
    return (np.searchsorted(TIMING_EDGES, ratio, side="right") - 1).astype(np.int64)


def _learn_timing(since: FloatArray, own: FloatArray, base: FloatArray, predicted: FloatArray,
                  bought: npt.NDArray[np.bool_]) -> tuple[FloatArray, FloatArray]:
    """Per bucket, observed over frequency-predicted hits, shrunk towards 1 (see the module
    docs), for products with their own interval and for those without."""
    bucket = _bucket(since, base)
    factors = []
    for group in (own > 0, own <= 0):
        n = len(TIMING_EDGES)
        hits = np.bincount(bucket[group], weights=bought[group].astype(np.float64), minlength=n)
        expected = np.bincount(bucket[group], weights=predicted[group], minlength=n)
        factors.append((hits + TIMING_PRIOR) / (expected + TIMING_PRIOR))
    return factors[0], factors[1]


def fit_repeats(days: PurchaseDays, order_customer: npt.NDArray[np.int32],
                order_day: npt.NDArray[np.int32], n_customers: int,
                n_products: int) -> Repeats:
    """The :class:`Repeats` of the whole history, with timing factors learned on it (see the
    module docs). Orders count by day (two orders of one day are one basket), as the
    evaluation's split holds baskets out by day. The pairs' figures come from
    ``_purchase_days``' one sort of the lines; here only the orders are sorted."""
    width, first, pairs = days.width, days.first, days.pairs
    owner, product = days.customer, days.product
    # Per customer: their order days and the median gap between them.
    span = int(order_day.max()) - first + 1 if len(order_day) else 1
    known_orders = order_customer >= 0
    day_bits = (span - 1).bit_length()
    visits = unique_sorted((order_customer[known_orders].astype(np.int64) << day_bits)
                           | (order_day[known_orders].astype(np.int64) - first))
    present, customers = packed_day_runs(visits, day_bits)
    customer_days = np.zeros(n_customers, dtype=np.int64)
    customer_last = np.full(n_customers, -1, dtype=np.int64)
    customer_days[present] = customers.count
    customer_last[present] = customers.last
    customer_gap = np.zeros(n_customers, dtype=np.float64)
    customer_gap[present] = customers.median_gap
    gap_before_last = np.zeros(n_customers, dtype=np.float64)
    gap_before_last[present] = customers.median_gap_before_last
    gaps = customer_gap[customer_gap > 0]
    usual_gap = float(np.median(gaps)) if len(gaps) else 30.0

    # Learning: each customer's last order day is the "next order" of the days before it.
    # A pair bought that day is a hit; its history is its purchases before (none: new then).
    has_next = customer_days[owner] >= 2
    bought = pairs.last == customer_last[owner]
    history = np.where(bought, pairs.count - 1, pairs.count)
    asked = has_next & (history >= 1)
    repurchased_before = np.zeros(width, dtype=bool)
    repurchased_before[product[history >= 2]] = True
    asked &= repurchased_before[product]
    last_before = np.where(bought, pairs.before_last, pairs.last)[asked]
    own = np.where(bought, pairs.median_gap_before_last, pairs.median_gap)[asked]
    who = owner[asked]
    gap = gap_before_last[who]
    base = np.where(own > 0, own, np.where(gap > 0, gap, usual_gap))
    since = (customer_last[who] - last_before).astype(np.float64)
    predicted = history[asked] / customer_days[who].astype(np.float64)  # (days - 1) + 1
    timing_own, timing_usual = _learn_timing(since, own, base, predicted, bought[asked])

    repurchased = np.zeros(width, dtype=bool)
    repurchased[product[pairs.count >= 2]] = True
    indptr = np.zeros(n_customers + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_customers), out=indptr[1:])
    return Repeats(indptr=indptr, product=product,
                   orders_with=pairs.count.astype(np.int32),
                   last_day=days.last_day,
                   median_days=pairs.median_gap.astype(np.float32),
                   customer_orders=customer_days.astype(np.int32),
                   customer_gap=customer_gap.astype(np.float32),
                   repurchased=repurchased[:n_products],
                   timing_own=timing_own.astype(np.float32),
                   timing_usual=timing_usual.astype(np.float32), usual_gap=usual_gap)
