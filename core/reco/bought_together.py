"""The built-in *bought together* strategy (a plugin on ``recommendation_candidates``).

Proposes, for the request's anchor product and cart items, the products bought together with
them significantly more often than their popularity explains (G² and ``min_support``,
``_cooccurrence``: the *filter*). The score is the estimated probability that the partner is
in an order with the anchor, the **smoothed confidence**
``P(b | a) = (together + m·P(b)) / (orders with a + m)`` with ``m = confidence_prior`` and
``P(b)`` the partner's share of all orders: a pair seen in 3 of 4 orders is not taken for
75 %. A significant pair has ``together / orders with a > P(b)``, so its score stays above
the partner's base rate — the score *popular_in_segment* gives a product page's popular
products — and the union of both ranks like co-occurrence confidence, with honest reasons.
A candidate several anchors propose keeps its best anchor's score. Abstains without a model
or without anchors. Products the request's connection does not sell are left out (the ERP's
history still counts for the shop's products with the same key).
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import Recommendation, RecommendationRequest, hookimpl

from . import _reasons

STRATEGY = "bought_together"


@hookimpl
def recommendation_candidates(request: RecommendationRequest,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    from ._model import Model

    if not isinstance(model, Model) or not request.anchors:
        return None
    table = model.bought_together
    prior = float(model.settings.get("confidence_prior", 5.0))
    orders = max(table.orders, 1)
    best: dict[str, Recommendation] = {}
    for anchor_id in request.anchors:
        anchor = model.product_index(request.connection, anchor_id)
        if anchor is None:
            continue
        span = table.of(anchor)
        orders_with = int(table.orders_with[anchor])
        anchor_name = model.product_name(anchor, request.connection)
        partners = table.partner[span].tolist()
        base_rates = (table.orders_with[table.partner[span]] / orders).tolist()
        for partner, g2, together, base_rate in zip(partners, table.llr[span].tolist(),
                                                    table.together[span].tolist(),
                                                    base_rates, strict=True):
            product_id = model.product_id(partner, request.connection)
            if product_id is None:
                continue
            score = (together + prior * base_rate) / (orders_with + prior)
            if product_id in best and best[product_id].score >= score:
                continue
            reasons = _reasons.bought_together(anchor_name, together, orders_with)
            best[product_id] = Recommendation(
                product_id=product_id, score=score, kind="complementary", strategy=STRATEGY,
                reason=reasons["en"], reasons=reasons,
                evidence={"anchor": anchor_id, "together": together,
                          "anchor_orders": orders_with, "share": together / orders_with,
                          "base_rate": round(base_rate, 5), "llr": round(g2, 3),
                          "orders": table.orders})
    return sorted(best.values(), key=lambda r: (-r.score, r.product_id))
