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

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


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

    # Orders are numbered densely by the pool; only orders with a line count.
    _, order_index = np.unique(line_order, return_inverse=True)
    n_orders = int(order_index.max()) + 1 if len(order_index) else 0
    baskets = sparse.csr_matrix(
        (np.ones(len(line_product), dtype=np.int32), (order_index, line_product)),
        shape=(n_orders, n_products))
    baskets.sum_duplicates()
    baskets.data[:] = 1  # a product twice in one order is one co-occurrence
    orders_with = np.asarray(baskets.sum(axis=0), dtype=np.int64).ravel()
    together = (baskets.T @ baskets).tocsr()
    together.setdiag(0)
    together.data[together.data < min_support] = 0
    together.eliminate_zeros()
    rows = np.repeat(np.arange(n_products, dtype=np.int64), np.diff(together.indptr))
    cols = together.indices.astype(np.int64)
    k11 = together.data.astype(np.float64)
    count_a, count_b = orders_with[rows].astype(np.float64), orders_with[cols].astype(np.float64)
    g2 = llr(k11, count_a, count_b, float(n_orders))
    keep = (k11 * n_orders > count_a * count_b) & (g2 >= min_llr)
    rows, cols, k11, g2 = rows[keep], cols[keep], k11[keep], g2[keep]
    # Most likely first within each product — the most orders together (what the strategy's
    # confidence ranks by), then by G² —; ties by partner for a deterministic model.
    order = np.lexsort((cols, -g2, -k11, rows))
    rows, cols, k11, g2 = rows[order], cols[order], k11[order], g2[order]
    per_row = np.bincount(rows, minlength=n_products)
    starts = np.concatenate(([0], np.cumsum(per_row)[:-1]))
    rank = np.arange(len(rows)) - starts[rows]
    top = rank < neighbours
    rows, cols, k11, g2 = rows[top], cols[top], k11[top], g2[top]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_products))))
    return Neighbours(indptr=indptr.astype(np.int64), partner=cols.astype(np.int32),
                      llr=g2.astype(np.float32), together=k11.astype(np.int32),
                      orders_with=orders_with.astype(np.int32), orders=n_orders)
