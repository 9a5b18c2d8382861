"""The built-in *product state* rule (a plugin on ``recommendation_patches``).

Vetoes products a shop cannot sell now: out of stock (stock tracked and ≤ 0, unless
the record allows backorders), not published (draft, archived), without a price, gift cards.
Settings per placement: ``[reco.placements.<name>] rules`` (docs/recommendations.md, Rules).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shoploop.hooks import (
    ProductLookup,
    Recommendation,
    RecommendationPatch,
    RecommendationRequest,
    hookimpl,
)

from . import _rules


@hookimpl
def recommendation_patches(request: RecommendationRequest,
                           candidates: Sequence[Recommendation], products: ProductLookup,
                           model: Any) -> list[RecommendationPatch] | None:
    return _rules.product_state(_rules.Case.of(request, candidates, products, model)) or None
