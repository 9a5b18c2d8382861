"""The built-in *upsell* strategy (a plugin on ``recommendation_candidates``).

For the request's anchor product and cart items: their premium alternatives in the same
family and price band (``_upsell``, fitted per connection), each with what it adds and the
price difference in the reason. The score is ``upsell_weight`` for an alternative at the
bottom of the band, falling linearly to half of it at the top: the smaller step up first.
Abstains without a model or without anchors.
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import Recommendation, RecommendationRequest, hookimpl

STRATEGY = "upsell"


@hookimpl
def recommendation_candidates(request: RecommendationRequest,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    from ._model import Model
    from ._upsell import gains, reasons

    if not isinstance(model, Model) or not request.anchors:
        return None
    settings = model.settings
    low = float(settings.get("upsell_min_ratio", 1.1))
    high = float(settings.get("upsell_max_ratio", 2.0))
    weight = float(settings.get("upsell_weight", 0.5))
    ignore = list(settings.get("upsell_ignore", ()))
    table = model.products(request.connection)
    offered = model.upsell.get(request.connection, {})
    best: dict[str, Recommendation] = {}
    for anchor_id in request.anchors:
        anchor = table.get(anchor_id)
        if anchor is None or anchor.price <= 0:
            continue
        for product_id in offered.get(anchor_id, ()):
            alternative = table.get(product_id)
            if alternative is None:
                continue
            ratio = float(alternative.price / anchor.price)
            added = gains(anchor.attributes, alternative.attributes, ignore)
            score = weight * (1 - 0.5 * min(max((ratio - low) / (high - low), 0.0), 1.0))
            if not added or (product_id in best and best[product_id].score >= score):
                continue
            difference = alternative.price - anchor.price
            texts = reasons(alternative.name, added, difference, alternative.currency)
            best[product_id] = Recommendation(
                product_id=product_id, score=score, kind="upsell", strategy=STRATEGY,
                reason=texts["en"], reasons=texts,
                evidence={"anchor": anchor_id, "adds": list(added),
                          "price_difference": str(difference), "price_ratio": round(ratio, 3),
                          "currency": alternative.currency})
    return sorted(best.values(), key=lambda r: (-r.score, r.product_id))
