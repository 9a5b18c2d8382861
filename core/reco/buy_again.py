"""The built-in *buy again / replenish* strategy (a plugin on ``recommendation_candidates``).

For a request naming a customer: the products that customer buys at regular intervals and
that are due now — the days since their last order reached ``(1 - due_window)`` of their own
median interval and not yet ``lapsed_after`` medians (``_intervals``). "Bought before" alone
is not enough. The time is ``context.now``, so a request is reproducible.
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import HookContext, Recommendation, RecommendationRequest, hookimpl

from . import _reasons
from ._days import day_of

STRATEGY = "buy_again"


@hookimpl
def recommendation_candidates(context: HookContext, request: RecommendationRequest,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    from ._intervals import due_score
    from ._model import Model

    if not isinstance(model, Model) or request.customer_id is None:
        return None
    customer = model.customer_index(request.connection, request.customer_id)
    if customer is None:
        return None
    table = model.intervals
    window = float(model.settings.get("due_window", 0.2))
    lapsed = float(model.settings.get("lapsed_after", 3.0))
    today = day_of(context.now)
    found: list[Recommendation] = []
    span = table.of(customer)
    for product, median, last_day, orders, regularity in zip(
            table.product[span].tolist(), table.median_days[span].tolist(),
            table.last_day[span].tolist(), table.orders[span].tolist(),
            table.regularity[span].tolist(), strict=True):
        since = today - last_day
        score = due_score(since, median, regularity, due_window=window, lapsed_after=lapsed)
        product_id = model.product_id(product, request.connection)
        if score is None or product_id is None:
            continue
        reasons = _reasons.buy_again(median, since, orders)
        found.append(Recommendation(
            product_id=product_id, score=score, kind="replenishment", strategy=STRATEGY,
            reason=reasons["en"], reasons=reasons,
            evidence={"median_interval_days": round(median, 1), "days_since_last": since,
                      "orders": orders, "regularity": round(regularity, 3)}))
    return sorted(found, key=lambda r: (-r.score, r.product_id))
