"""Splitting a :class:`Pool` for offline evaluation: which orders are held out, and the
training pool without them.

The split is fixed (no sampling): each customer with at least two baskets has their *last*
basket (by day, then by order) held out; everything else — guest orders and single-basket
customers included — is the training history. The training pool keeps the product and
customer indices of the full pool, so a held-out basket's products mean the same products
in a model fitted on the training part.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import numpy.typing as npt

from ._arrays import unique_sorted
from ._pool import Pool

IndexArray = npt.NDArray[np.int64]


def last_baskets(pool: Pool) -> IndexArray:
    """The order index of each customer's last basket, for customers with two or more
    baskets; ascending by customer. Orders without a line in the pool do not count."""
    orders = unique_sorted(pool.line_order.astype(np.int64))
    customer = pool.order_customer[orders].astype(np.int64)
    known = customer >= 0
    orders, customer = orders[known], customer[known]
    by_customer = np.lexsort((orders, pool.order_day[orders], customer))
    orders, customer = orders[by_customer], customer[by_customer]
    if len(orders) == 0:
        return np.zeros(0, dtype=np.int64)
    last = np.flatnonzero(np.concatenate((customer[1:] != customer[:-1], [True])))
    first = np.concatenate(([0], last[:-1] + 1))
    return orders[last[last > first]]


def without_orders(pool: Pool, held_out: npt.ArrayLike) -> Pool:
    """``pool`` without the orders ``held_out`` (order indices): orders renumbered densely,
    products and customers unchanged. The report's order and line counts are the training
    part's."""
    drop = np.zeros(pool.n_orders, dtype=bool)
    drop[np.asarray(held_out, dtype=np.int64)] = True
    new_index = np.cumsum(~drop, dtype=np.int64) - 1
    keep_line = ~drop[pool.line_order]
    report = replace(pool.report, orders=int((~drop).sum()), lines=int(keep_line.sum()),
                     orders_by_connection={}, lines_unmatched=0,
                     lines_unmatched_examples=[])
    return replace(
        pool, order_customer=pool.order_customer[~drop],
        order_day=pool.order_day[~drop],
        line_order=new_index[pool.line_order[keep_line]].astype(np.int32),
        line_product=pool.line_product[keep_line], report=report)
