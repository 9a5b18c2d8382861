"""The built-in *price band* rule (a plugin on ``recommendation_patches``).

Vetoes complements dearer than ``price_band`` x the anchor's price (the dearest anchor of
a cart); upsells, replacements and replenishment are exempt.
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
    return _rules.price_band(_rules.Case.of(request, candidates, products, model)) or None
