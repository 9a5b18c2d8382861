"""The demo's recommendation step: ``reco build`` on the demo merchant, then ``reco show`` for a
product, a customer and a cart — through the same API the CLI and the web layer use.

The asks are chosen from the data, not hard-coded: the product bought with others most often,
the customer with the most orders, and a cart of the demo's most frequent pair. Then
``reco evaluate`` on a sample of held-out baskets, its verdict on the goals included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ._config import Config
from ._connections import Connections
from ._context import hook_context
from ._plugins import PluginHost
from .store import OrderLineRecord, OrderRecord, Store

SHOWN = 3
"""Recommendations shown per ask."""
EVALUATED = 300
"""Held-out baskets per protocol in the demo's ``reco evaluate`` (a second, not minutes)."""


def recommendation_demo(host: PluginHost, config: Config, store: Store,
                        connections: Connections, *, connection: str,
                        now: datetime) -> dict[str, Any]:
    """Build a model of ``store`` as of ``now`` and answer three requests of ``connection``.
    Returns the build's figures and, per ask, its request and top recommendations."""
    from .hooks import RecommendationRequest
    from .reco import build_model, evaluate, rank

    built = build_model(host, store, config.reco, lambda: now)
    model = built.model
    pair, customer = _asks(store, connection)
    requests = []
    if pair:
        requests.append(("product", pair[0], RecommendationRequest(
            connection=connection, product_id=pair[0], placement="product_page", k=SHOWN)))
    if customer:
        requests.append(("customer", customer, RecommendationRequest(
            connection=connection, customer_id=customer, placement="email", k=SHOWN)))
    if pair:
        requests.append(("cart", " + ".join(pair), RecommendationRequest(
            connection=connection, cart=list(pair), placement="cart", k=SHOWN)))
    context = hook_context(config, connections, store=store, now=now)
    products = model.products(connection)
    asks = []
    for kind, anchor, request in requests:
        ranked = rank(host, model, request, context=context)
        found = products.many(r.product_id for r in ranked.recommendations)
        anchors = products.many(request.anchors)
        asks.append({
            "ask": kind, "for": anchor,
            "for_name": " + ".join(str(anchors[a].name) for a in request.anchors
                                   if a in anchors) or anchor,
            "recommendations": [
                {"product_id": r.product_id,
                 "name": found[r.product_id].name if r.product_id in found else r.product_id,
                 "kind": r.kind, "score": round(r.score, 3), "reason": r.reason}
                for r in ranked.recommendations]})
    summary = built.summary
    return {"version": built.version, "products": summary["pool"].get("products"),
            "orders": summary["bought_together"]["orders"],
            "pairs": summary["bought_together"]["pairs"],
            "repeat_purchases": summary["intervals"]["repeat_purchases"],
            "strategies": summary.get("strategies", []), "seconds": summary["seconds"],
            "asks": asks, "evaluation": evaluate(host, store, config.reco, lambda: now,
                                                 sample=EVALUATED)}


def _asks(store: Store, connection: str) -> tuple[tuple[str, str] | None, str | None]:
    """The most frequent product pair within one order, and the customer with most orders."""
    a, b = aliased(OrderLineRecord), aliased(OrderLineRecord)
    with store.session() as session:
        pair = session.execute(
            select(a.product_external_id, b.product_external_id)
            .join(b, (a.order_id == b.order_id)
                  & (a.product_external_id < b.product_external_id))
            .join(OrderRecord, OrderRecord.id == a.order_id)
            .where(OrderRecord.connection == connection)
            .group_by(a.product_external_id, b.product_external_id)
            .order_by(func.count().desc(), a.product_external_id, b.product_external_id)
            .limit(1)).first()
        customer = session.execute(
            select(OrderRecord.customer_external_id)
            .where(OrderRecord.connection == connection,
                   OrderRecord.customer_external_id.is_not(None))
            .group_by(OrderRecord.customer_external_id)
            .order_by(func.count().desc(), OrderRecord.customer_external_id)
            .limit(1)).scalar()
    return (str(pair[0]), str(pair[1])) if pair else None, customer


def publish_demo(host: PluginHost, config: Config, store: Store, connections: Connections,
                 *, shops: tuple[str, ...], now: datetime) -> dict[str, Any]:
    """``reco publish --dry-run`` into the running shop emulators: their products and orders
    imported into ``store``, a model built, and what publishing would write per shop."""
    from .jobs import mirror_stream
    from .reco import PublishOptions, build_model, publish

    for name in shops:
        for stream in ("products", "orders"):
            mirror_stream(connections[name], store, connection=name, stream=stream)
    built = build_model(host, store, config.reco, lambda: now)
    report = publish(host, store, connections, built.model,
                     PublishOptions(dry_run=True, targets=list(shops)),
                     context=hook_context(config, connections, store=store, now=now))
    summary = report.as_dict()
    return {"version": built.version,
            "targets": {name: {"products": target["products"], "changed": target["changed"]}
                        for name, target in summary["targets"].items()},
            "diff": summary["diff"][:SHOWN]}
