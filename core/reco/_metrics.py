"""Ranking metrics at k over held-out truth, and their running means.

- **Recall@k**: the share of the truth found in the top k, ``|top k ∩ truth| / |truth|``.
- **NDCG@k**: discounted gain of the hits (``1 / log2(rank + 1)``), divided by the best a
  list of k could reach for that truth (``min(k, |truth|)`` hits on top).
- **Hit rate@k**: 1 when the top k holds at least one true product.

Every case counts, also one where the recommender had nothing to say (all zeros): a
recommender is not rewarded for abstaining.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field


def at_k(ranked: Sequence[int], truth: Collection[int], k: int) -> tuple[float, float, float]:
    """(Recall@k, NDCG@k, hit rate@k) of one ranked list; ``truth`` must not be empty."""
    hits = [rank for rank, product in enumerate(ranked[:k]) if product in truth]
    dcg = sum(1.0 / math.log2(rank + 2) for rank in hits)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(truth))))
    return len(hits) / len(truth), dcg / ideal, 1.0 if hits else 0.0


def recall_at(ranked: Sequence[int], truth: Collection[int], k: int) -> float:
    return sum(1 for product in ranked[:k] if product in truth) / len(truth)


@dataclass
class Means:
    """Running means of one recommender's metrics over the cases of one protocol."""

    cases: int = 0
    answered: int = 0
    """Cases where the recommender returned at least one product."""
    sums: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: float) -> None:
        self.sums[name] = self.sums.get(name, 0.0) + value
        self.counts[name] = self.counts.get(name, 0) + 1

    def case(self, ranked: Sequence[int], truth: Collection[int], k: int, *,
             repeat: Collection[int] | None = None) -> None:
        """Score one case. With ``repeat`` (the truth's products the customer bought
        before), Recall@k is also split into repeat and explore (the rest of the truth)."""
        self.cases += 1
        self.answered += 1 if ranked else 0
        recall, ndcg, hit = at_k(ranked, truth, k)
        self.add("recall", recall)
        self.add("ndcg", ndcg)
        self.add("hit_rate", hit)
        if repeat is not None:
            explore = [product for product in truth if product not in repeat]
            if repeat:
                self.add("repeat_recall", recall_at(ranked, repeat, k))
            if explore:
                self.add("explore_recall", recall_at(ranked, explore, k))

    def as_dict(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {"cases": self.cases, "answered": self.answered}
        for name, total in self.sums.items():
            out[name] = round(total / self.counts[name], 4)
        return out
