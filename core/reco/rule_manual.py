"""The built-in *manual lists* rule (a plugin on ``recommendation_patches``).

The merchant's own pin / boost / block rows (``manual`` and ``manual_file``).
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
    return _rules.manual(_rules.Case.of(request, candidates, products, model)) or None
