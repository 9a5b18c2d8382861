"""Who bought what: per customer, the products they ever bought and the day they last did.

A compact CSR (one ``indptr`` over customers, products sorted within each customer), read off
the fit's one sort of the lines (``_purchase_days``), so the *already bought* rule answers
"did this customer buy this product?" with a binary search in memory, never a store round
trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ._purchase_days import PurchaseDays


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


def fit_purchases(days: PurchaseDays, n_customers: int) -> Purchases:
    """Read off ``_purchase_days``' one sort of the lines: each pair and its last day."""
    indptr = np.zeros(n_customers + 1, dtype=np.int64)
    np.cumsum(np.bincount(days.customer, minlength=n_customers), out=indptr[1:])
    # The same arrays as buy again's (``_repeats``): one copy in memory.
    return Purchases(indptr=indptr, product=days.product, last_day=days.last_day)
