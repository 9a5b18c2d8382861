"""``reco export``: every product's or customer's recommendations as JSON Lines.

One line per product (placement ``product_page``) or per customer (placement ``email``) of
every connection with products in the model, in that connection's own ids::

    {"product_id": "101", "connection": "shop", "recommendations":
     [{"product_id": "102", "score": 0.92, "kind": "complementary", "reason": "…"}]}

The lines come from the same lookup as ``reco show`` (:func:`shoploop.reco.rank`: every
strategy and rule takes part) and are written one at a time: a 50k-product catalogue never
sits in memory as a list of lines. A customer of a connection without products in the model
has no ids to be recommended in and is left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import IO, Any, Literal

from shoploop._plugins import PluginHost
from shoploop.hooks import HookContext, RecommendationRequest

from ._api import rank
from ._model import Model

ExportFor = Literal["customers", "products"]


def export_requests(model: Model, what: ExportFor, k: int) -> Iterator[RecommendationRequest]:
    """The requests of an export, in a stable order (connection, then the model's order)."""
    for connection in model.connections:
        if what == "products":
            for product_id in model.product_records[connection]:
                yield RecommendationRequest(connection=connection, product_id=product_id,
                                            placement="product_page", k=k)
        else:
            for member in model.customer_members:
                customer_id = member.get(connection)
                if customer_id is not None:
                    yield RecommendationRequest(connection=connection,
                                                customer_id=customer_id, placement="email", k=k)


def export_size(model: Model, what: ExportFor) -> int:
    """How many lines :func:`export_lines` writes (the progress bar's total)."""
    if what == "products":
        return sum(len(model.product_records[c]) for c in model.connections)
    return sum(1 for member in model.customer_members for c in model.connections if c in member)


def export_line(request: RecommendationRequest, recommendations: list[Any]) -> dict[str, Any]:
    key = "product_id" if request.product_id is not None else "customer_id"
    return {key: request.product_id if request.product_id is not None else request.customer_id,
            "connection": request.connection,
            "recommendations": [{"product_id": r.product_id, "score": round(r.score, 6),
                                 "kind": r.kind, "reason": r.reason} for r in recommendations]}


def export_lines(host: PluginHost, model: Model, what: ExportFor, out: IO[str], *, k: int = 10,
                 context: HookContext | None = None,
                 progress: Callable[[int], None] | None = None) -> int:
    """Write one JSON line per product or customer to ``out``; returns the number of lines.
    ``progress(1)`` after each line."""
    lines = 0
    for request in export_requests(model, what, k):
        ranked = rank(host, model, request, context=context)
        out.write(json.dumps(export_line(request, ranked.recommendations),
                             ensure_ascii=False, separators=(",", ":")) + "\n")
        lines += 1
        if progress is not None:
            progress(1)
    return lines
