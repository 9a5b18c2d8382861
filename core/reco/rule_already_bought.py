"""The built-in *already bought* rule (a plugin on ``recommendation_patches``).

Vetoes products the request's customer bought before (the model's purchases), except
replenishment candidates (due again) and the placement's ``consumables``.
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
    return _rules.already_bought(_rules.Case.of(request, candidates, products, model)) or None
