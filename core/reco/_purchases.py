"""Who bought what: per customer, the products they ever bought and the day they last did.

A compact CSR (one ``indptr`` over customers, products sorted within each customer), fitted
from the pool with one sort, so the *already bought* rule answers "did this customer buy
this product?" with a binary search in memory, never a store round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class Purchases:
    indptr: npt.NDArray[np.int64]
    product: npt.NDArray[np.int32]
    last_day: npt.NDArray[np.int32]
    """The day (``_days.day_of``) of the customer's newest order of the product."""

    def last_bought(self, customer: int, product: int) -> int | None:
        """The day ``customer`` last bought ``product``, or None when they never did."""
        if not 0 <= customer < len(self.indptr) - 1:
            return None
        start, end = int(self.indptr[customer]), int(self.indptr[customer + 1])
        at = start + int(np.searchsorted(self.product[start:end], product))
        if at < end and int(self.product[at]) == product:
            return int(self.last_day[at])
        return None


    def last_bought_many(self, customer: int, products: Sequence[int]) -> list[int | None]:
        """:meth:`last_bought` of each of ``products`` (-1: no product) in one search."""
        if not products or not 0 <= customer < len(self.indptr) - 1:
            return [None] * len(products)
        start, end = int(self.indptr[customer]), int(self.indptr[customer + 1])
        bought = self.product[start:end]
        wanted = np.asarray(products, dtype=np.int64)
        at = np.minimum(np.searchsorted(bought, wanted), max(end - start - 1, 0))
        if end == start:
            return [None] * len(products)
        hit = bought[at] == wanted
        days = self.last_day[start:end][at]
        return [int(day) if found else None
                for day, found in zip(days.tolist(), hit.tolist(), strict=True)]


def fit_purchases(order_customer: npt.NDArray[np.int32], order_day: npt.NDArray[np.int32],
                  line_order: npt.NDArray[np.int32], line_product: npt.NDArray[np.int32],
                  n_customers: int, n_products: int) -> Purchases:
    customer = order_customer[line_order].astype(np.int64)
    known = customer >= 0  # a guest order belongs to nobody
    pair = customer[known] * max(n_products, 1) + line_product[known].astype(np.int64)
    day = order_day[line_order][known]
    order = np.lexsort((day, pair))
    pair, day = pair[order], day[order]
    last = np.flatnonzero(np.concatenate((pair[1:] != pair[:-1], [True]))) if len(pair) \
        else np.zeros(0, dtype=np.int64)
    pair, day = pair[last], day[last]
    owner = pair // max(n_products, 1)
    indptr = np.zeros(n_customers + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_customers), out=indptr[1:])
    return Purchases(indptr=indptr,
                     product=(pair % max(n_products, 1)).astype(np.int32),
                     last_day=day.astype(np.int32))
