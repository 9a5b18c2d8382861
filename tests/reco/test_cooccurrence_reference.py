"""The banded, threaded co-occurrence fit equals a plain dense reference on small baskets."""

from __future__ import annotations

from random import Random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.reco import _cooccurrence
from shoploop.reco._cooccurrence import fit_bought_together, llr


def _reference(line_order: np.ndarray, line_product: np.ndarray, n_products: int,
               min_support: int, neighbours: int) -> list[list[tuple[int, int]]]:
    orders = np.unique(line_order)
    dense = np.zeros((len(orders), n_products), dtype=np.int64)
    dense[np.searchsorted(orders, line_order), line_product] = 1
    together = dense.T @ dense
    with_ = dense.sum(axis=0)
    best = []
    for a in range(n_products):
        found = []
        for b in range(n_products):
            k = int(together[a, b])
            if a == b or k < min_support or k * len(orders) <= with_[a] * with_[b]:
                continue
            found.append((-k, -float(llr(k, with_[a], with_[b], len(orders))), b))
        best.append([(b, -k) for k, _, b in sorted(found)[:neighbours]])
    return best


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 11), min_size=1, max_size=6), min_size=1,
                max_size=40), st.integers(1, 3), st.integers(1, 4), st.integers(1, 5),
       st.randoms(use_true_random=False), st.booleans())
def test_banded_fit_equals_dense_reference(baskets: list[list[int]], min_support: int,
                                           neighbours: int, bands: int, rng: Random,
                                           shuffled: bool) -> None:
    lines = [(n, p) for n, basket in enumerate(baskets) for p in basket]
    if shuffled:  # lines not by order: the fit's other way to its order-by-product matrix
        rng.shuffle(lines)
    line_order = np.asarray([n for n, _ in lines], dtype=np.int32)
    line_product = np.asarray([p for _, p in lines], dtype=np.int32)
    given_lines = (line_order.copy(), line_product.copy())
    old = _cooccurrence.BANDS
    _cooccurrence.BANDS = bands
    try:
        fitted = fit_bought_together(line_order, line_product, 12, min_support=min_support,
                                     min_llr=0.0, neighbours=neighbours)
    finally:
        _cooccurrence.BANDS = old
    got = [list(zip(fitted.partner[fitted.of(a)].tolist(),
                    fitted.together[fitted.of(a)].tolist(), strict=True)) for a in range(12)]
    assert got == _reference(line_order, line_product, 12, min_support, neighbours)
    # The pool's arrays are the other fits' input too: the fit must leave them as they were.
    assert np.array_equal(line_order, given_lines[0])
    assert np.array_equal(line_product, given_lines[1])
