"""The built-in *popular in the customer's segment* strategy (on ``recommendation_candidates``).

The fallback for customers the other strategies know little about: the products customers of
the same segment (industry, customer group, lifecycle stage — ``[reco] segment_keys``) buy
more than customers overall (``_segments``), scored by their smoothed share of the segment's
customers as a probability per order (times ``customers / orders``: one of a customer's
orders holds their first purchase of it); a customer in several segments gets each product's
best. The customer's segments come from the model (every mirrored customer, with or without
orders), else from the ``profile`` the caller passes. Without a known segment — or for a
request naming nobody and nothing — the products most customers bought. A customer with an
order history is offered none of the products they bought: *buy again* scores those from
their own history.

A product page or cart gets the products in the most orders, scored by their base rate
``P(b)``: below every significant *bought together* partner (whose confidence beats ``P(b)``),
so the bestsellers fill the places the anchor's partners leave, ranked as co-occurrence
confidence would rank them, with a reason that says what they are.
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import CustomerProfile, Recommendation, RecommendationRequest, hookimpl

STRATEGY = "popular_in_segment"


def _profile_labels(profile: CustomerProfile | None, keys: list[str]) -> list[str]:
    from ._segments import segment_values

    if profile is None:
        return []
    record = {"kind": profile.customer.kind,
              "attributes": {**profile.customer.attributes, **profile.attributes}}
    return segment_values(record, keys)


def _in_orders(request: RecommendationRequest, model: Any,
               limit: int) -> list[Recommendation]:
    """A product page or cart: the products in the most orders, scored by their base rate
    ``P(b)`` — the probability that an order holds them knowing nothing of the anchor. Every
    significant *bought together* partner scores above it (its confidence beats ``P(b)``), so
    the bestsellers fill the places the anchor's own partners leave."""
    from ._segments import order_reasons

    table = model.bought_together
    orders = max(table.orders, 1)
    anchors = set(request.anchors)
    found = []
    for product in model.in_most_orders(limit + len(anchors)):
        product_id = model.product_id(product, request.connection)
        if product_id is None or product_id in anchors:
            continue
        with_it = int(table.orders_with[product])
        texts = order_reasons(with_it, table.orders)
        found.append(Recommendation(
            product_id=product_id, score=with_it / orders, kind="cross_sell",
            strategy=STRATEGY, reason=texts["en"], reasons=texts,
            evidence={"segment": None, "orders_with": with_it, "orders": table.orders}))
    return found[:limit]


@hookimpl
def recommendation_candidates(request: RecommendationRequest, profile: CustomerProfile | None,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    from ._model import Model
    from ._segments import reasons, segments_of

    if not isinstance(model, Model):
        return None
    settings = model.settings
    if request.anchors:
        # Twice k: room for the rules' vetoes, few objects per product-page lookup.
        return _in_orders(request, model, min(int(settings.get("segment_products", 50)),
                                              2 * request.k))
    if model.segments is None:
        return None
    table = model.segments
    prior = float(settings.get("segment_prior", 20.0))
    # A share of customers who ever bought p, as a probability per order: customers make
    # ``orders / customers`` orders each, and one of them holds their first purchase of p.
    per_order = table.customers / max(model.bought_together.orders, table.customers, 1)
    factor = per_order
    segments: list[int] = []
    bought: set[int] = set()
    if request.customer_id is not None:
        segments = list(table.by_external.get(request.connection, {})
                        .get(request.customer_id, ()))
        if not segments:
            segments = segments_of(table, _profile_labels(
                profile, list(settings.get("segment_keys", ()))))
        customer = model.customer_index(request.connection, request.customer_id)
        if customer is not None:
            factor *= float(settings.get("segment_returning_weight", 1.0))
            # What they bought is *buy again*'s to score, from their own history.
            if model.purchases is not None:
                span = slice(int(model.purchases.indptr[customer]),
                             int(model.purchases.indptr[customer + 1]))
                bought = set(model.purchases.product[span].tolist())
    best: dict[str, Recommendation] = {}

    def offer(product: int, score: float, label: str | None, buyers: int,
              customers: int) -> None:
        product_id = model.product_id(product, request.connection)
        if product_id is None or product in bought or (
                product_id in best and best[product_id].score >= score):
            return
        texts = reasons(label, buyers, customers)
        best[product_id] = Recommendation(
            product_id=product_id, score=score, kind="cross_sell", strategy=STRATEGY,
            reason=texts["en"], reasons=texts,
            evidence={"segment": label, "buyers": buyers, "customers": customers,
                      "overall_buyers": int(table.product_buyers[product]),
                      "all_customers": table.customers})

    for segment in segments:
        span = table.of(segment)
        size = int(table.segment_customers[segment])
        for product, buyers in zip(table.product[span].tolist(), table.buyers[span].tolist(),
                                   strict=True):
            offer(product, factor * table.smoothed(segment, buyers, product, prior),
                  table.labels[segment], buyers, size)
    if not segments:
        for product in table.top.tolist():
            buyers = int(table.product_buyers[product])
            offer(product, factor * buyers / max(table.customers, 1), None, buyers,
                  table.customers)
    return sorted(best.values(), key=lambda r: (-r.score, r.product_id))
