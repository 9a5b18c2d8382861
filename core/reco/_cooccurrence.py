"""*Bought together*: basket co-occurrence scored by Dunning's log-likelihood ratio (G²).

Raw co-occurrence counts rank bestsellers next to everything; G² asks whether two products
are bought together *more often than their popularity explains* (Dunning 1993, "Accurate
methods for the statistics of surprise and coincidence"; the same test Mahout's
``LogLikelihood`` uses for item similarity). Pairs need ``min_support`` shared orders and a G²
of at least ``min_llr``; only positive associations count.

Vectorised and sparse, for a million orders over 50k products: a binary CSR order-by-product
matrix ``X``, the co-occurrence counts ``C = XᵀX`` (scipy's sparse product), G² on ``C``'s
non-zeros in one numpy expression, then the best ``neighbours`` per product by one sort.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from ._arrays import dense_inverse

FloatArray = npt.NDArray[np.float64]
BANDS = 16
"""Product bands ``XᵀX`` is computed in: enough to balance two to four threads, few enough
that each band's sparse product stays large."""


def _xlogx_ratio(k: FloatArray, expected: FloatArray) -> FloatArray:
    """``k · ln(k / expected)``, 0 where k is 0 (the limit)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = k * np.log(k / expected)
    return np.where(k > 0, terms, 0.0)


def llr(k11: npt.ArrayLike, count_a: npt.ArrayLike, count_b: npt.ArrayLike,
        n: npt.ArrayLike) -> FloatArray:
    """Dunning's G² of the 2x2 table of ``n`` orders: ``k11`` hold both products, ``count_a``
    hold A, ``count_b`` hold B. ``G² = 2 Σ k ln(k / E)`` over the four cells, ``E`` the count
    independence expects. Symmetric in A and B, 0 when A and B are independent, and rising
    with ``k11`` above the expected count. Vectorised over arrays."""
    both = np.asarray(k11, dtype=np.float64)
    a = np.asarray(count_a, dtype=np.float64)
    b = np.asarray(count_b, dtype=np.float64)
    total = np.asarray(n, dtype=np.float64)
    only_a, only_b = a - both, b - both
    neither = total - a - b + both
    not_a, not_b = total - a, total - b
    g2 = 2.0 * (_xlogx_ratio(both, a * b / total) + _xlogx_ratio(only_a, a * not_b / total)
                + _xlogx_ratio(only_b, not_a * b / total)
                + _xlogx_ratio(neither, not_a * not_b / total))
    return np.maximum(g2, 0.0)  # rounding can leave -1e-12 where the truth is 0


def llr_score(g2: npt.ArrayLike, half: float) -> FloatArray:
    """G² mapped onto 0…1 (``half`` scores 0.5), monotone, so it merges with other
    strategies' scores without saturating into ties."""
    value = np.asarray(g2, dtype=np.float64)
    return value / (value + half)


@dataclass(frozen=True)
class Neighbours:
    """Per product, its best partners: CSR-style (``indptr[i]:indptr[i+1]`` are product i's,
    best first)."""

    indptr: npt.NDArray[np.int64]
    partner: npt.NDArray[np.int32]
    llr: npt.NDArray[np.float32]
    together: npt.NDArray[np.int32]
    """Orders holding both products."""
    orders_with: npt.NDArray[np.int32]
    """Per product: orders holding it."""
    orders: int
    """Orders in the history (with at least one known product)."""

    def of(self, product: int) -> slice:
        return slice(int(self.indptr[product]), int(self.indptr[product + 1]))


def fit_bought_together(line_order: npt.NDArray[np.int32], line_product: npt.NDArray[np.int32],
                        n_products: int, *, min_support: int, min_llr: float,
                        neighbours: int) -> Neighbours:
    """The :class:`Neighbours` of every product from the order lines (see the module docs)."""
    from scipy import sparse  # only a model build needs scipy

    ones = np.ones(len(line_product), dtype=np.int32)
    if len(line_order) and bool(np.all(line_order[1:] >= line_order[:-1])):
        # The pool's lines come by order: the CSR's rows are their runs, no COO conversion
        # (which sorted all the lines again). Only orders with a line count.
        lines_of = np.bincount(line_order)
        lines_of = lines_of[lines_of > 0]
        n_orders = len(lines_of)
        indptr = np.zeros(n_orders + 1, dtype=np.int64)
        np.cumsum(lines_of, out=indptr[1:])
        # A copy: scipy keeps the indices array and sorting them would reorder the pool's.
        baskets = sparse.csr_matrix((ones, line_product.copy(), indptr),
                                    shape=(n_orders, n_products))
    else:
        # Orders are numbered densely by the pool; only orders with a line count.
        order_index, n_orders = dense_inverse(line_order)
        baskets = sparse.csr_matrix((ones, (order_index, line_product)),
                                    shape=(n_orders, n_products))
        del order_index
    baskets.sum_duplicates()
    baskets.data[:] = 1  # a product twice in one order is one co-occurrence
    orders_with = np.bincount(baskets.indices, minlength=n_products).astype(np.int64)
    by_product = baskets.T.tocsr()  # products x orders: its row bands are cheap slices
    bands = _bands(by_product, baskets)
    fit = partial(_fit_band, by_product, baskets, orders_with, n_orders,
                  min_support=min_support, min_llr=min_llr, neighbours=neighbours)
    # scipy's sparse product and numpy's sorts release the GIL: the bands of product rows
    # run on the machine's cores, and only two bands' co-occurrences are in memory at once.
    with ThreadPoolExecutor(max_workers=_workers()) as pool:
        parts = list(pool.map(fit, bands))
    per_row = np.concatenate([part[0] for part in parts]) if parts else np.zeros(0, np.int64)
    indptr = np.zeros(n_products + 1, dtype=np.int64)
    np.cumsum(per_row, out=indptr[1:])
    return Neighbours(indptr=indptr,
                      partner=np.concatenate([part[1] for part in parts] or [np.zeros(0, np.int64)])
                      .astype(np.int32),
                      llr=np.concatenate([part[2] for part in parts] or [np.zeros(0)])
                      .astype(np.float32),
                      together=np.concatenate([part[3] for part in parts] or [np.zeros(0)])
                      .astype(np.int32),
                      orders_with=orders_with.astype(np.int32), orders=n_orders)


def _workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def _bands(by_product: Any, baskets: Any) -> list[tuple[int, int]]:
    """Consecutive product ranges of about equal work: product i's row of ``XᵀX`` costs the
    lines of the orders holding it."""
    n_products = by_product.shape[0]
    if n_products == 0:
        return []
    order_size = np.diff(baskets.indptr).astype(np.float64)
    work = np.cumsum(by_product @ order_size)  # a sparse product, not a 20M-line repeat
    count = max(1, min(BANDS, n_products))
    cuts = np.searchsorted(work, work[-1] * np.arange(1, count) / count, side="right")
    edges = np.unique(np.concatenate(([0], cuts, [n_products])))
    return [(int(a), int(b)) for a, b in pairwise(edges.tolist()) if b > a]


def _fit_band(by_product: Any, baskets: Any, orders_with: npt.NDArray[np.int64], n_orders: int,
              band: tuple[int, int], *, min_support: int, min_llr: float, neighbours: int
              ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], FloatArray, FloatArray]:
    """Products ``band``'s best partners: per product the count of its kept partners, then
    partner, G² and orders together, best first within each product."""
    first, end = band
    together = by_product[first:end] @ baskets
    counts = np.diff(together.indptr)
    rows = np.repeat(np.arange(first, end, dtype=np.int64), counts)
    cols = together.indices.astype(np.int64)
    k11 = together.data
    del together
    # The significance cut first: the sort below only sees the pairs that can be partners.
    wanted = (k11 >= min_support) & (rows != cols)
    rows, cols, k11 = rows[wanted], cols[wanted], k11[wanted].astype(np.float64)
    count_a, count_b = orders_with[rows].astype(np.float64), orders_with[cols].astype(np.float64)
    g2 = llr(k11, count_a, count_b, float(n_orders))
    keep = (k11 * n_orders > count_a * count_b) & (g2 >= min_llr)
    rows, cols, k11, g2 = rows[keep], cols[keep], k11[keep], g2[keep]
    # Most likely first within each product — the most orders together (what the strategy's
    # confidence ranks by), then by G² —; ties by partner for a deterministic model.
    order = np.lexsort((cols, -g2, -k11, rows))
    rows, cols, k11, g2 = rows[order], cols[order], k11[order], g2[order]
    per_row = np.bincount(rows - first, minlength=end - first)
    starts = np.concatenate(([0], np.cumsum(per_row)[:-1]))
    top = np.arange(len(rows)) - starts[rows - first] < neighbours
    return (np.minimum(per_row, neighbours).astype(np.int64), cols[top], g2[top], k11[top])
