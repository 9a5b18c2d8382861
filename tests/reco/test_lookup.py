"""*Bought together*'s lookup (array scoring of every anchor's partners, objects only for the
best ``CANDIDATES · k``) against a plain loop over the fitted partners (hypothesis)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.hooks import RecommendationRequest
from shoploop.reco import Pool, PoolReport, RecoSettings, fit_model
from shoploop.reco import bought_together as strategy
from shoploop.reco._candidates import CANDIDATES

N_PRODUCTS = 9
baskets = st.lists(st.sets(st.integers(0, N_PRODUCTS - 1), min_size=1, max_size=5),
                   min_size=1, max_size=80)


def pool_of(orders: list[set[int]]) -> Pool:
    line_order = np.array([o for o, items in enumerate(orders) for _ in items], dtype=np.int32)
    line_product = np.array([p for items in orders for p in sorted(items)], dtype=np.int32)
    ids = [str(n) for n in range(N_PRODUCTS)]
    # Product 8 is the ERP's only: it counts in the history, the shop cannot be offered it.
    members = [{"shop": [i]} if i != "8" else {"erp": [i]} for i in ids]
    records = {"shop": {i: {"id": i, "sku": i, "name": f"P{i}", "price": "1"} for i in ids[:-1]},
               "erp": {"8": {"id": "8", "sku": "8", "name": "P8", "price": "1"}}}
    return Pool(product_keys=ids, product_members=members, product_records=records,
                customer_ids=[], customer_members=[],
                order_customer=np.full(len(orders), -1, dtype=np.int32),
                order_day=np.full(len(orders), 19_000, dtype=np.int32),
                line_order=line_order, line_product=line_product,
                report=PoolReport(product_key="sku", orders=len(orders),
                                  lines=len(line_order)))


@settings(max_examples=60, deadline=None)  # fits a model per example: no timing under load
@given(baskets, st.lists(st.integers(0, N_PRODUCTS), min_size=1, max_size=4),
       st.integers(1, 6))
def test_candidates_are_the_best_of_a_plain_loop(orders: list[set[int]], cart: list[int],
                                                 k: int) -> None:
    model = fit_model(pool_of(orders), RecoSettings(min_support=1, min_llr=0.0),
                      lambda: datetime(2024, 1, 1, tzinfo=UTC))
    anchors = [str(p) for p in cart]  # 9 is no product: ignored
    request = RecommendationRequest(connection="shop", placement="cart", cart=anchors, k=k)
    got = strategy.recommendation_candidates(request=request, model=model)
    assert got is not None
    table, best = model.bought_together, {}
    for anchor_id in request.anchors:
        anchor = model.product_index("shop", anchor_id)
        if anchor is None:
            continue
        n_a = int(table.orders_with[anchor])
        span = table.of(anchor)
        for partner, together in zip(table.partner[span].tolist(),
                                     table.together[span].tolist(), strict=True):
            product_id = model.product_id(partner, "shop")
            base = float(table.orders_with[partner]) / max(table.orders, 1)
            score = (together + 5.0 * base) / (n_a + 5.0)
            if product_id is not None and (product_id not in best
                                           or best[product_id][0] < score):
                best[product_id] = (score, anchor_id, together)
    expected = sorted(((s, p, a, t) for p, (s, a, t) in best.items()
                       if p not in request.anchors), key=lambda e: (-e[0], e[1]))
    expected = expected[:CANDIDATES * k]
    assert [(r.product_id, r.evidence["anchor"], r.evidence["together"]) for r in got] == \
        [(p, a, t) for _, p, a, t in expected]
    assert np.allclose([r.score for r in got], [s for s, _, _, _ in expected], rtol=1e-12)
