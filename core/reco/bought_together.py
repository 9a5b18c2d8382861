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
A candidate several anchors propose keeps its best anchor's score; the best
``CANDIDATES · k`` candidates are returned (``_candidates``). Abstains without a model
or without anchors. Products the request's connection does not sell are left out (the ERP's
history still counts for the shop's products with the same key).
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import Recommendation, RecommendationRequest, hookimpl

from . import _reasons
from ._candidates import CANDIDATES

STRATEGY = "bought_together"


@hookimpl
def recommendation_candidates(request: RecommendationRequest,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    import numpy as np

    from ._model import Model

    if not isinstance(model, Model) or not request.anchors:
        return None
    table = model.bought_together
    prior = float(model.settings.get("confidence_prior", 5.0))
    orders = max(table.orders, 1)
    anchors = [(anchor_id, index) for anchor_id in request.anchors
               if (index := model.product_index(request.connection, anchor_id)) is not None]
    if not anchors:
        return []
    # Every anchor's partners at once, scored with arrays; objects only for the best.
    spans = [table.of(index) for _, index in anchors]
    partner = np.concatenate([table.partner[span] for span in spans])
    together = np.concatenate([table.together[span] for span in spans])
    g2 = np.concatenate([table.llr[span] for span in spans])
    anchor_of = np.repeat(np.arange(len(anchors)), [span.stop - span.start for span in spans])
    anchor_orders = table.orders_with[[index for _, index in anchors]].astype(np.int64)
    base_rate = table.orders_with[partner] / orders
    score = (together + prior * base_rate) / (anchor_orders[anchor_of] + prior)
    ids, sold = model.ids_in(request.connection)
    # Per partner its best anchor (ties: the first anchor), among those the connection sells.
    position = np.flatnonzero(sold[partner])
    position = position[np.lexsort((position, -score[position], partner[position]))]
    first = np.concatenate(([True], partner[position][1:] != partner[position][:-1])) \
        if len(position) else np.zeros(0, dtype=bool)
    best = position[first]
    best = best[np.argsort(-score[best], kind="stable")]
    # The best ``CANDIDATES · k`` by (score, product id), the request's own products left
    # out (the core drops them): enough positions to skip them, plus the ties at the cut.
    wanted = CANDIDATES * request.k
    cut = min(len(best), wanted + len(request.anchors))
    if cut < len(best):
        best = best[score[best] >= score[best[cut - 1]]]
    own = set(request.anchors)
    ranked = sorted(((float(score[at]), ids[int(partner[at])], at) for at in best.tolist()),
                    key=lambda entry: (-entry[0], entry[1]))
    names: dict[int, str] = {}
    found: list[Recommendation] = []
    for value, product_id, at in ranked:
        if product_id is None or product_id in own:
            continue
        number, anchor = int(anchor_of[at]), anchors[int(anchor_of[at])]
        if number not in names:
            names[number] = model.product_name(anchor[1], request.connection)
        shared, orders_with = int(together[at]), int(anchor_orders[number])
        rate = float(base_rate[at])
        reasons = _reasons.bought_together(names[number], shared, orders_with)
        found.append(Recommendation(
            product_id=product_id, score=value, kind="complementary", strategy=STRATEGY,
            reason=reasons["en"], reasons=reasons,
            evidence={"anchor": anchor[0], "together": shared,
                      "anchor_orders": orders_with, "share": shared / orders_with,
                      "base_rate": round(rate, 5), "llr": round(float(g2[at]), 3),
                      "orders": table.orders}))
        if len(found) == wanted:
            break
    return found
