"""A simulated A/B experiment in ``shoploop demo``, with a known true uplift.

The experiment asks whether showing 8 recommendations on the product page instead of 4 sells
more. Simulated shoppers — new customers of the demo merchant — each open one product page
through the storefront API of ``shoploop serve`` (the real app on a loopback socket), the
widget's impressions are reported to ``POST /api/v1/events``, and a shopper buys each product
shown with the same probability ``TAKE``. So the arms differ only in what the variant changes,
and the truth is known: a shopper shown ``k`` products converts with probability ``1 - (1 -
TAKE)^k`` (11.5 % for 4, 21.6 % for 8 — the demo prints the exact expectation of what each arm
was actually shown). Their purchases land in the order mirror a day later, as the import or the
order webhook would put them there, and ``experiments report`` judges the experiment at its
fixed horizon (docs/experiments.md).

The demo works on a copy of the merchant's store (``experiment.db``), so the merchant's own
order history stays as it was; ``experiment.toml`` keeps the experiment for
``shoploop -c experiment.toml experiments report more_items``.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._plugins import PluginHost

NAME = "more_items"
TAKE = 0.03
"""The chance that a shopper buys any one product shown (the same in both arms)."""
SHOPPERS = 1_400
"""Enough that both arms pass the planned horizon (about 590 units each, printed)."""
ANCHORS = 20
"""The product pages the shoppers open: the merchant's most bought products that have at
least 8 recommendations (so the k8 arm does show 8)."""
EVENTS_PER_REPORT = 50
"""Impressions are reported in batches, as a widget reporting several page views would."""
START = datetime(2026, 12, 1, 9, tzinfo=UTC)
EXPERIMENT_TOML = """\
# Written by `shoploop demo`: the simulated experiment it ran (4 vs 8 recommendations on the
# product page) on a copy of the demo store. From this folder:
#   shoploop -c experiment.toml experiments report {name}
[store]
url = "sqlite:///experiment.db"

[connections.{connection}]
type = "files"
path = "data"

[web.storefront]
events_per_minute = 100000        # one loopback client reports for every simulated shopper

[experiments.{name}]
unit = "customer"
placements = ["product_page"]
start = {start}
stop = {stop}
primary_metric = "conversion"
baseline_rate = 0.115             # 1 - (1 - {take})^4: what the control arm is expected to do
minimum_detectable_effect = 0.5   # plan to find +50 % (the true effect is bigger)
attribution_window_days = 7

[[experiments.{name}.variants]]
name = "k4"
share = 0.5
k = 4

[[experiments.{name}.variants]]
name = "k8"
share = 0.5
k = 8
"""


def run_experiment_demo(host: PluginHost, directory: Path, *, connection: str,
                        step: Any, shoppers: int = SHOPPERS, seed: int = 1) -> dict[str, Any]:
    """Copy the demo store, simulate the shoppers, report; the report's figures, the true
    conversion per arm and where the experiment's config is."""
    from ._config import load_config
    from .experiments import experiment_report
    from .store import Store

    database = directory / "experiment.db"
    _copy_sqlite(directory / "shoploop.db", database)
    stop = START + timedelta(days=14)
    path = directory / "experiment.toml"
    path.write_text(EXPERIMENT_TOML.format(name=NAME, connection=connection, take=TAKE,
                                           start=START.isoformat(), stop=stop.isoformat()),
                    encoding="utf-8")
    config = load_config(path, host.connectors, environ={})
    settings = config.experiments[NAME]
    step(f"experiment {NAME!r}: {shoppers:,} simulated shoppers open a product page through "
         f"the storefront API; each buys any product shown with {TAKE:.0%} probability — "
         "4 products shown (k4) or 8 (k8)")
    with Store(config.store_url) as store:
        truth = _simulate(host, config, store, connection, shoppers, random.Random(seed))
        with store.session() as session:
            report = experiment_report(session, NAME, settings, stop)
    return {"config": str(path), "name": NAME, "take": TAKE, "truth": truth,
            "report": report}


def _copy_sqlite(source: Path, target: Path) -> None:
    for stale in (target, target.with_name(target.name + "-wal"),
                  target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    # The backup API, not a file copy: it includes what still sits in the WAL.
    with sqlite3.connect(source) as old, sqlite3.connect(target) as new:
        old.backup(new)
    new.close()
    old.close()


def _anchors(store: Any, client: Any, connection: str) -> list[str]:
    """The most bought products whose product page has 8 recommendations (asked without a
    customer: outside the experiment)."""
    from sqlalchemy import func, select

    from .store import OrderLineRecord, OrderRecord

    with store.session() as session:
        popular = [str(p) for p in session.scalars(
            select(OrderLineRecord.product_external_id)
            .join(OrderRecord, OrderRecord.id == OrderLineRecord.order_id)
            .where(OrderRecord.connection == connection,
                   OrderLineRecord.product_external_id.is_not(None))
            .group_by(OrderLineRecord.product_external_id)
            .order_by(func.count().desc(), OrderLineRecord.product_external_id)
            .limit(10 * ANCHORS))]
    anchors = []
    for product in popular:
        answer = client.get("/api/v1/recommendations", params={
            "connection": connection, "product": product, "placement": "product_page",
            "k": "8"})
        answer.raise_for_status()
        if len(answer.json()["recommendations"]) >= 8:
            anchors.append(product)
            if len(anchors) == ANCHORS:
                break
    return anchors or popular[:ANCHORS]


def _simulate(host: PluginHost, config: Any, store: Any, connection: str, shoppers: int,
              rng: random.Random) -> dict[str, dict[str, float]]:
    """Every shopper's page view, impressions and (maybe) order; per arm the units and the
    expected conversion of what they were actually shown."""
    import httpx

    from .hooks import LineItem, Order
    from .store import upsert_orders
    from .web import create_app, serving

    app = create_app(host, config, store, clock=lambda: START)
    expected: dict[str, list[float]] = {}
    orders: list[Order] = []
    impressions: list[dict[str, Any]] = []
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        anchors = _anchors(store, client, connection)
        for number in range(shoppers):
            customer = f"sim-{number:05d}"
            answer = client.get("/api/v1/recommendations", params={
                "connection": connection, "product": anchors[number % len(anchors)],
                "customer": customer, "placement": "product_page"})
            answer.raise_for_status()
            body = answer.json()
            shown = body["recommendations"]
            arm = (body.get("experiment") or {}).get("variant", "none")
            expected.setdefault(arm, []).append(1 - (1 - TAKE) ** len(shown))
            impressions.extend(
                {"event_id": f"{customer}-{n}", "type": "impression",
                 "connection": connection, "placement": "product_page",
                 "product_id": r["product_id"], "experiment": NAME, "customer": customer}
                for n, r in enumerate(shown))
            while len(impressions) >= EVENTS_PER_REPORT or (
                    impressions and number == shoppers - 1):
                batch, impressions = (impressions[:EVENTS_PER_REPORT],
                                      impressions[EVENTS_PER_REPORT:])
                client.post("/api/v1/events", json={"events": batch}).raise_for_status()
            bought = [r for r in shown if rng.random() < TAKE]
            if bought:
                placed = START + timedelta(days=1, minutes=number % 600)
                orders.append(Order(
                    id=f"sim-order-{number:05d}", customer_id=customer, placed_at=placed,
                    updated_at=placed, status="paid", currency="EUR",
                    lines=[LineItem(product_id=r["product_id"], name=r.get("name") or "",
                                    quantity=1, unit_price=Decimal(str(r.get("price") or 10)))
                           for r in bought]))
    with store.session() as session:  # as the order import or webhook would mirror them
        upsert_orders(session, connection, orders)
        session.commit()
    return {arm: {"units": len(rates), "expected_conversion": sum(rates) / len(rates)}
            for arm, rates in sorted(expected.items())}
