"""The built-in *buy again / replenish* strategy (a plugin on ``recommendation_candidates``).

For a request naming a customer: every product they bought that customers buy again, scored
by the estimated probability that it is in their next order (``_repeats``): their purchase
frequency times a timing factor learned from the history (a product due again rises, one
just bought falls). Products that are **due** — bought on ``min_repeats`` days and the days
since the last order within the due window of the customer's own median interval
(``_intervals``) — say so in their reason ("due now, not just bought before"); the others
give their frequency as the reason. The score stays the probability (the core ranks by
score; a due-first order would break the scores' comparability, and measured on the public
data set it changed nothing). The time is ``context.now``, so a request is reproducible.
"""

from __future__ import annotations

from typing import Any

from shoploop.hooks import HookContext, Recommendation, RecommendationRequest, hookimpl

from . import _reasons
from ._candidates import CANDIDATES
from ._days import day_of

STRATEGY = "buy_again"


@hookimpl
def recommendation_candidates(context: HookContext, request: RecommendationRequest,
                              model: Any) -> list[Recommendation] | None:
    # Imported here: loading plugins (every `shoploop` call) must not import numpy.
    import numpy as np

    from ._model import Model

    if not isinstance(model, Model) or request.customer_id is None or model.repeats is None:
        return None
    customer = model.customer_index(request.connection, request.customer_id)
    if customer is None:
        return None
    repeats, intervals = model.repeats, model.intervals
    window = float(model.settings.get("due_window", 0.2))
    lapsed = float(model.settings.get("lapsed_after", 3.0))
    today = day_of(context.now)
    span, probability = repeats.probabilities(customer, today)
    products = repeats.product[span]
    wanted = np.flatnonzero(probability > 0)
    ranked = wanted[np.lexsort((products[wanted], -probability[wanted]))]
    top = ranked[:CANDIDATES * request.k]  # only these become candidates: due is asked of them
    # Due now: the products with a trusted interval (``min_repeats`` days) in the due window.
    regular = intervals.of(customer)
    regular_products = intervals.product[regular]
    chosen = products[top]
    at = np.minimum(np.searchsorted(regular_products, chosen),
                    max(len(regular_products) - 1, 0))
    has_interval = (regular_products[at] == chosen) if len(regular_products) \
        else np.zeros(len(chosen), dtype=bool)
    # ``_intervals.due_score``'s window, over all of them at once.
    interval_at = regular.start + at
    elapsed = today - intervals.last_day[interval_at].astype(np.float64) \
        if len(regular_products) else np.zeros(len(chosen))
    medians = intervals.median_days[interval_at].astype(np.float64) \
        if len(regular_products) else np.zeros(len(chosen))
    due = (has_interval & (medians > 0) & (elapsed >= (1 - window) * medians)
           & (elapsed <= lapsed * medians)).tolist()
    ids, _ = model.ids_in(request.connection)
    found: list[Recommendation] = []
    orders = int(repeats.customer_orders[customer])
    for n, position in enumerate(top.tolist()):
        product_id = ids[int(chosen[n])]
        if product_id is None:
            continue
        number = span.start + position
        since = today - int(repeats.last_day[number])
        bought = int(repeats.orders_with[number])
        evidence: dict[str, Any] = {"orders_with": bought, "orders": orders,
                                    "days_since_last": since,
                                    "probability": round(float(probability[position]), 4),
                                    "due": due[n]}
        if due[n]:
            interval = regular.start + int(at[n])
            median = float(intervals.median_days[interval])
            days = int(intervals.orders[interval])
            reasons = _reasons.buy_again(median, since, days)
            evidence.update(median_interval_days=round(median, 1),
                            regularity=round(float(intervals.regularity[interval]), 3))
        else:
            reasons = _reasons.bought_before(bought, orders, since)
        # The score is the probability, so the merge with other strategies compares like
        # with like; being due is in the reason and the evidence.
        found.append(Recommendation(
            product_id=product_id, score=float(probability[position]), kind="replenishment",
            strategy=STRATEGY, reason=reasons["en"], reasons=reasons, evidence=evidence))
    return found
