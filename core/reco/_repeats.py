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

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

TIMING_EDGES = np.array([0.0, 0.25, 0.5, 0.8, 1.25, 2.0, 3.0, 5.0], dtype=np.float64)
"""Lower edges of the buckets of ``days since the last purchase / interval``: just bought,
…, due (0.8–1.25), overdue, long gone (5 and more)."""
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


def _runs(keys: IntArray) -> tuple[IntArray, IntArray]:
    """Start positions and lengths of the runs of equal values in a sorted array."""
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    starts = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1]))).astype(np.int64)
    return starts, np.diff(np.concatenate((starts, [len(keys)])))


def _gap_medians(group: IntArray, day: IntArray, n_groups: int) -> FloatArray:
    """Per group (0 … n_groups-1), the median gap between its distinct ``day``s (sorted by
    group, then day, distinct); 0 for a group with one day. Grouped median by one sort."""
    consecutive = group[1:] == group[:-1]
    gap_group, gap = group[1:][consecutive], np.diff(day)[consecutive].astype(np.float64)
    order = np.lexsort((gap, gap_group))
    gap_group, gap = gap_group[order], gap[order]
    medians = np.zeros(n_groups, dtype=np.float64)
    starts, counts = _runs(gap_group)
    if len(starts):
        medians[gap_group[starts]] = (gap[starts + (counts - 1) // 2]
                                      + gap[starts + counts // 2]) / 2
    return medians


@dataclass(frozen=True)
class _Pairs:
    key: IntArray
    """customer · n_products + product, ascending."""
    orders_with: IntArray
    last_day: IntArray
    median_days: FloatArray
    customer_orders: IntArray
    customer_gap: FloatArray
    repurchased: npt.NDArray[np.bool_]


def _pairs(customer: IntArray, order: IntArray, day: IntArray, product: IntArray,
           n_customers: int, n_products: int) -> _Pairs:
    """The per-pair and per-customer statistics of the lines given (known customers only)."""
    width = max(n_products, 1)
    key = customer * width + product
    n_orders = int(order.max()) + 1 if len(order) else 1
    # One entry per (pair, order): the orders holding the product.
    distinct = unique_sorted(key * n_orders + order)
    pair_of, order_of = distinct // n_orders, distinct % n_orders
    starts, counts = _runs(pair_of)
    order_day = np.zeros(n_orders, dtype=np.int64)
    order_day[order] = day
    last_day = np.maximum.reduceat(order_day[order_of], starts) if len(starts) else starts
    # The pair's purchase days, distinct and sorted: its median interval.
    first = int(day.min()) if len(day) else 0
    span = int(day.max()) - first + 1 if len(day) else 1
    pair_days = unique_sorted(key * span + (day - first))
    day_pair = pair_days // span
    pairs = pair_of[starts]
    pair_number = np.searchsorted(pairs, day_pair)
    median = _gap_medians(pair_number, pair_days % span, len(pairs))
    # Per customer: orders, and the median gap between their order days.
    customer_of_order = np.full(n_orders, -1, dtype=np.int64)
    customer_of_order[order] = customer
    orders = np.flatnonzero(customer_of_order >= 0)
    customer_orders = np.bincount(customer_of_order[orders], minlength=n_customers)
    days = unique_sorted(customer_of_order[orders] * span + (order_day[orders] - first))
    customer_gap = _gap_medians(days // span, days % span, n_customers)
    repurchased = np.zeros(width, dtype=bool)
    repurchased[(pairs % width)[counts >= 2]] = True
    return _Pairs(key=pairs, orders_with=counts, last_day=last_day, median_days=median,
                  customer_orders=customer_orders, customer_gap=customer_gap,
                  repurchased=repurchased)


def _learn_timing(pairs: _Pairs, target_day: IntArray, target_keys: IntArray,
                  n_products: int, usual_gap: float) -> tuple[FloatArray, FloatArray]:
    """Per bucket, observed over frequency-predicted hits in the customers' held-back last
    orders (``target_day`` per customer, -1 for none; ``target_keys`` their pairs, sorted)."""
    customer = pairs.key // max(n_products, 1)
    asked = (target_day[customer] >= 0) & pairs.repurchased[pairs.key % max(n_products, 1)]
    key, customer = pairs.key[asked], customer[asked]
    since = np.maximum(target_day[customer] - pairs.last_day[asked], 0).astype(np.float64)
    own = pairs.median_days[asked]
    gap = pairs.customer_gap[customer]
    base = np.where(own > 0, own, np.where(gap > 0, gap, usual_gap))
    bucket = _bucket(since, base)
    predicted = pairs.orders_with[asked] / (pairs.customer_orders[customer] + 1.0)
    at = np.minimum(np.searchsorted(target_keys, key), max(len(target_keys) - 1, 0))
    bought = (target_keys[at] == key).astype(np.float64) if len(target_keys) \
        else np.zeros(len(key))
    factors = []
    for group in (own > 0, own <= 0):
        n = len(TIMING_EDGES)
        hits = np.bincount(bucket[group], weights=bought[group], minlength=n)
        expected = np.bincount(bucket[group], weights=predicted[group], minlength=n)
        factors.append((hits + TIMING_PRIOR) / (expected + TIMING_PRIOR))
    return factors[0], factors[1]


def fit_repeats(order_customer: npt.NDArray[np.int32], order_day: npt.NDArray[np.int32],
                line_order: npt.NDArray[np.int32], line_product: npt.NDArray[np.int32],
                n_customers: int, n_products: int) -> Repeats:
    """The :class:`Repeats` of the whole history, with timing factors learned on it (see the
    module docs)."""
    customer = order_customer[line_order].astype(np.int64)
    known = customer >= 0  # guest orders have no customer to remind
    customer = customer[known]
    order = line_order[known].astype(np.int64)
    day = order_day[line_order][known].astype(np.int64)
    product = line_product[known].astype(np.int64)
    full = _pairs(customer, order, day, product, n_customers, n_products)
    gaps = full.customer_gap[full.customer_gap > 0]
    usual_gap = float(np.median(gaps)) if len(gaps) else 30.0

    # Each customer's last order (by day, then order) is the "next order" of the rest.
    orders = unique_sorted(order)
    owner = order_customer[orders].astype(np.int64)
    ranked = np.lexsort((orders, order_day[orders], owner))
    orders, owner = orders[ranked], owner[ranked]
    last = np.flatnonzero(np.concatenate((owner[1:] != owner[:-1], [True]))) if len(owner) \
        else np.zeros(0, dtype=np.int64)
    first = np.concatenate(([0], last[:-1] + 1))
    last = last[last > first]  # customers with two or more orders
    target = np.zeros(int(order.max()) + 1 if len(order) else 0, dtype=bool)
    target[orders[last]] = True
    target_day = np.full(n_customers, -1, dtype=np.int64)
    target_day[owner[last]] = order_day[orders[last]]
    held = target[order]
    history = _pairs(customer[~held], order[~held], day[~held], product[~held], n_customers,
                     n_products)
    target_keys = unique_sorted(customer[held] * max(n_products, 1) + product[held])
    own, usual = _learn_timing(history, target_day, target_keys, n_products, usual_gap)

    width = max(n_products, 1)
    indptr = np.zeros(n_customers + 1, dtype=np.int64)
    np.cumsum(np.bincount(full.key // width, minlength=n_customers), out=indptr[1:])
    return Repeats(indptr=indptr, product=(full.key % width).astype(np.int32),
                   orders_with=full.orders_with.astype(np.int32),
                   last_day=full.last_day.astype(np.int32),
                   median_days=full.median_days.astype(np.float32),
                   customer_orders=full.customer_orders.astype(np.int32),
                   customer_gap=full.customer_gap.astype(np.float32),
                   repurchased=full.repurchased[:n_products], timing_own=own.astype(np.float32),
                   timing_usual=usual.astype(np.float32), usual_gap=usual_gap)
