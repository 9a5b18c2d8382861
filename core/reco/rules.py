"""The built-in rules as plugins on ``recommendation_patches``, one object each.

Each is registered by name through the ``shoploop`` entry-point group
(``product_state = "shoploop.reco.rules:product_state"``), so a merchant disables one like any
plugin (``SHOPLOOP_DISABLE_PLUGINS=price_band``). The rules themselves are in ``_rules``;
settings per placement: ``[reco.placements.<name>] rules`` (docs/recommendations.md, Rules).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from shoploop.hooks import (
    ProductLookup,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    hookimpl,
)

from . import _rules

Rule = Callable[[_rules.Case], list[RecommendationPatch]]


class RulePlugin:
    """One built-in rule; ``__name__`` and ``__doc__`` are what ``shoploop plugins`` shows."""

    def __init__(self, name: str, rule: Rule, doc: str) -> None:
        self.__name__ = f"{__name__}:{name}"
        self.__doc__ = doc
        self._rule = rule

    @hookimpl
    def recommendation_patches(self, request: RecommendationRequest,
                               candidates: Sequence[Recommendation], products: ProductLookup,
                               model: Any) -> list[RecommendationPatch] | None:
        return self._rule(_rules.Case.of(request, candidates, products, model)) or None


product_state = RulePlugin(
    "product_state", _rules.product_state,
    "Vetoes products a shop cannot sell now: out of stock (stock tracked and ≤ 0, unless the "
    "record allows backorders), not published (draft, archived), without a price, gift cards.")
already_bought = RulePlugin(
    "already_bought", _rules.already_bought,
    "Vetoes products the request's customer bought before (the model's purchases), except "
    "replenishment candidates (due again) and the placement's consumables.")
price_band = RulePlugin(
    "price_band", _rules.price_band,
    "Vetoes complements dearer than price_band x the anchor's price (the dearest anchor of a "
    "cart); upsells, replacements and replenishment are exempt.")
categories = RulePlugin(
    "categories", _rules.categories,
    "Keeps only a placement's include_categories (when set) and vetoes its "
    "exclude_categories.")
manual_lists = RulePlugin(
    "manual_lists", _rules.manual,
    "The merchant's own pin / boost / block rows (manual and manual_file).")
diversity = RulePlugin(
    "diversity", _rules.diversity,
    "At most max_per_category recommendations of one category per placement.")
