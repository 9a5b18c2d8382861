"""The built-in *diversity* rule (a plugin on ``recommendation_patches``).

At most ``max_per_category`` recommendations of one category per placement.
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
    return _rules.diversity(_rules.Case.of(request, candidates, products, model)) or None
