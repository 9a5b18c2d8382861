"""``shoploop demo``: the main job end to end on the embedded default.

Generates a demo merchant, loads it through the ``files`` connector into a fresh SQLite store,
shows that a second run is incremental (reads nothing new), and reports what the store now knows;
builds a recommendation model on it and shows recommendations with their reasons
(:mod:`.demo_reco`).
Then the customer-attribute sync: the ERP, Shopify and WooCommerce emulators start in-process
(loopback only, seeded from the same merchant), and ``SyncJob`` — the API behind
``shoploop sync customers`` — runs twice: the first run writes, the second finds nothing to do.
Then the referral loop in simulated time (:mod:`.demo_referral`), ending with its funnel, and
last a simulated A/B experiment with a known true uplift (:mod:`.demo_experiment`).
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from shoploop.hooks import HookContext

from ._config import load_config
from ._connections import Connections
from ._context import hook_context
from ._plugins import PluginHost
from .attributes.profiles import build_profiles
from .combine import derive_attributes
from .demo_data import DEFAULT_AS_OF, generate
from .demo_experiment import run_experiment_demo
from .demo_reco import publish_demo, recommendation_demo
from .demo_referral import run_referral_demo
from .jobs import MirrorStream, mirror_stream
from .store import (
    CustomerRecord,
    InstalledBaseRecord,
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    Store,
)

CONNECTION = "erp_files"
STREAMS: tuple[MirrorStream, ...] = ("customers", "products", "orders", "installed_base")
DEMO_CONFIG = f'''\
# Written by `shoploop demo`. The demo merchant's ERP export, read by the `files` connector.
[connections.{CONNECTION}]
type = "files"
path = "data"

# Recommendations: the merchant's coffee, descaler and filters are bought again and again, so
# the "already bought" rule must not hide them (docs/recommendations.md, Rules).
[reco.placements.product_page]
rules = {{ consumables = ["consumables"] }}
[reco.placements.cart]
rules = {{ consumables = ["consumables"] }}
[reco.placements.email]
rules = {{ consumables = ["consumables"] }}
'''
SYNC_CUSTOMERS = 500
"""The emulators hold at most this many customers: enough to show the sync at work, small
enough that starting three emulators and two sync runs stays within seconds."""
SHOPIFY_DEMO_LIMITS = {"bucket": "100000", "restore_rate": "100000"}
"""A generous query-cost bucket: the demo shows the sync, not Shopify's throttling (the real
limit is 1000 points, 100 restored per second; the adapter waits as needed)."""
EMULATORS = (("erp", "erp"), ("shopify", "shop"), ("woocommerce", "woo"))
NEW_IN_ERP = 5
"""The ERP's newest customers, not in the shops yet: the demo's sync creates them there."""
DEMO_CREATE = 'create_missing = ["shop", "woo"]  # new ERP customers become shop customers\n'
SYNC_MAPPING = """\
[sync]
match_keys = ["email", "vat_id"]
derived_from = ["erp"]          # the shops' orders are transferred into the ERP: count them once

[sync.attributes.customer_group]
master = "erp"
targets = ["shop", "woo"]

[sync.attributes.sales_rep]
master = "erp"
transform = "lower"
targets = { shop = {}, woo = { key = "rep" } }
"""
"""ERP master data into both shops (the demo's, the bench's and the sync tests' mapping)."""
DERIVED_MAPPING = """\
[sync.attributes.lifecycle_stage]
master = "derived"              # computed from the ERP's orders, written back into the ERP
targets = ["erp"]
"""
SYNC_HEADER = """\
# Written by `shoploop demo`: the customer-attribute sync between the ERP, Shopify and
# WooCommerce emulators the demo ran on loopback (they stopped when it ended; the secrets were
# environment variables of the demo's process). The audit trail stays in sync.db; from this
# folder: shoploop -c sync.toml sync history
[store]
url = "sqlite:///sync.db"
"""


@dataclass
class DemoReport:
    directory: Path
    store_url: str
    seconds: dict[str, float] = field(default_factory=dict)
    loaded: dict[str, dict[str, int]] = field(default_factory=dict)
    rerun_read: dict[str, int] = field(default_factory=dict)
    insights: dict[str, Any] = field(default_factory=dict)
    reco: dict[str, Any] = field(default_factory=dict)
    sync: dict[str, Any] = field(default_factory=dict)
    referral: dict[str, Any] = field(default_factory=dict)
    experiment: dict[str, Any] = field(default_factory=dict)


def run_demo(host: PluginHost, directory: Path, *, customers: int = 5000, seed: int = 1,
             on_step: Any = None) -> DemoReport:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in ("data", "shoploop.db", "shoploop.db-wal", "shoploop.db-shm", "sync.toml",
                  "sync.db", "sync.db-wal", "sync.db-shm"):
        target = directory / stale
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    (directory / "shoploop.toml").write_text(DEMO_CONFIG, encoding="utf-8")
    step = on_step or (lambda _text: None)

    started = time.perf_counter()
    step(f"generating a demo merchant with {customers:,} customers")
    generate(directory / "data", seed=seed, customers=customers)
    report_seconds = {"generate": time.perf_counter() - started}

    config = load_config(directory / "shoploop.toml", host.connectors, environ={})
    report = DemoReport(directory=directory, store_url=config.store_url, seconds=report_seconds)
    with Store(config.store_url) as store, Connections(config, host.connectors) as connections:
        store.upgrade()
        started = time.perf_counter()
        for stream in STREAMS:
            step(f"loading {stream} through the files connector")
            result = mirror_stream(connections[CONNECTION], store, connection=CONNECTION,
                                   stream=stream)
            report.loaded[stream] = {"read": result.read, "inserted": result.inserted,
                                     "pages": result.pages}
        report.seconds["load"] = time.perf_counter() - started
        step("re-running the import: only changes are read")
        for stream in STREAMS:
            again = mirror_stream(connections[CONNECTION], store, connection=CONNECTION,
                                  stream=stream)
            report.rerun_read[stream] = again.read
        with store.session() as session:
            report.insights = insights(session, as_of=DEFAULT_AS_OF, lifecycle_stages=(
                _lifecycle_stages(session, host, hook_context(
                    config, connections, store=store, now=_day_after(DEFAULT_AS_OF)))))
        step("recommendations: reco build on the merchant's orders, reco show for a product, "
             "a customer and a cart")
        started = time.perf_counter()
        report.reco = recommendation_demo(host, config, store, connections,
                                          connection=CONNECTION,
                                          now=_day_after(DEFAULT_AS_OF))
        report.seconds["reco"] = time.perf_counter() - started
    started = time.perf_counter()
    report.sync = run_sync_demo(host, directory, customers=min(customers, SYNC_CUSTOMERS),
                                seed=seed, step=step)
    report.seconds["sync"] = time.perf_counter() - started
    started = time.perf_counter()
    report.referral = run_referral_demo(host, directory, step=step)
    report.seconds["referral"] = time.perf_counter() - started
    started = time.perf_counter()
    report.experiment = run_experiment_demo(host, directory, connection=CONNECTION, step=step)
    report.seconds["experiment"] = time.perf_counter() - started
    return report


def run_sync_demo(host: PluginHost, directory: Path, *, customers: int, seed: int,
                  step: Any) -> dict[str, Any]:
    """Start the three emulators, write ``sync.toml`` for them, run the sync twice, then a
    ``reco publish --dry-run`` into the two shops.

    Returns the config path, the emulators' customer count and Shopify limits, both runs'
    summaries (``SyncReport.as_dict()`` without the per-stream import rows) and the dry run's
    counts per shop with its first changed lists (``publish``)."""
    from .hooks import EmulatorOptions
    from .sync.job import SyncJob, SyncOptions

    step(f"starting the ERP, Shopify and WooCommerce emulators on loopback ({customers:,} "
         f"customers in the ERP, the shops lack its {NEW_IN_ERP} newest; one merchant; "
         "Shopify with a generous rate limit: "
         f"bucket {SHOPIFY_DEMO_LIMITS['bucket']} points, restoring "
         f"{SHOPIFY_DEMO_LIMITS['restore_rate']}/s)")
    started: list[Any] = []
    environment: dict[str, str] = {}
    try:
        blocks = []
        for kind, name in EMULATORS:
            extra = SHOPIFY_DEMO_LIMITS if kind == "shopify" else {}
            # The generator is prefix-stable: the shops hold the ERP's first customers.
            count = customers if kind == "erp" else customers - NEW_IN_ERP
            emulator = host.emulators.emulators[kind].factory(
                EmulatorOptions(customers=count, seed=seed, extra=extra))
            emulator.start()
            started.append(emulator)
            blocks.append(emulator.connection_block(name))
            environment.update(emulator.environment())
        path = directory / "sync.toml"
        mapping = SYNC_MAPPING.replace("[sync]\n", "[sync]\n" + DEMO_CREATE, 1)
        path.write_text("\n".join([SYNC_HEADER, mapping, DERIVED_MAPPING, *blocks]),
                        encoding="utf-8")
        config = load_config(path, host.connectors, environ={})
        runs = []
        with secrets_in_environment(environment), Store(config.store_url) as store, \
                Connections(config, host.connectors) as connections:
            store.upgrade()
            for label in ("ERP → Shopify + WooCommerce, lifecycle stage → ERP",
                          "again: nothing changed, nothing to write"):
                step(f"sync customers: {label}")
                summary = SyncJob(host, config, store, connections, SyncOptions()).run() \
                    .as_dict()
                summary.pop("imports", None)
                runs.append(summary)
            step("reco publish --dry-run: the shops' products and orders imported, a model "
                 "built, what publishing would write into their own fields")
            published = publish_demo(host, config, store, connections, shops=("shop", "woo"),
                                     now=datetime.now(UTC))
        return {"config": str(path), "customers": customers,
                "shopify_limits": dict(SHOPIFY_DEMO_LIMITS), "runs": runs,
                "publish": published}
    finally:
        for emulator in reversed(started):
            emulator.stop()


@contextmanager
def secrets_in_environment(values: dict[str, str]) -> Iterator[None]:
    """The emulators' secrets as environment variables while the block runs: the connections
    read them from there, as in production; they live only in this process, are never
    printed, and the previous values come back afterwards."""
    saved = {variable: os.environ.get(variable) for variable in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value


def insights(session: Session, *, as_of: date,
             lifecycle_stages: dict[str, int]) -> dict[str, Any]:
    """What the store knows now — the raw material of the three capabilities."""
    kinds = dict(session.execute(
        select(CustomerRecord.kind, func.count()).group_by(CustomerRecord.kind)).tuples().all())
    orders_per_customer = select(OrderRecord.customer_external_id, func.count().label("n")) \
        .where(OrderRecord.customer_external_id.is_not(None)) \
        .group_by(OrderRecord.customer_external_id).subquery()
    buyer_counts = Counter(
        "repeat" if n >= 2 else "one-time"
        for n in session.execute(select(orders_per_customer.c.n)).scalars())
    customers_total = sum(kinds.values())
    channels = dict(session.execute(
        select(OrderRecord.channel, func.count()).group_by(OrderRecord.channel)).tuples().all())
    revenue = session.execute(select(func.sum(OrderRecord.total))).scalar() or Decimal(0)
    return {
        "customers": {"b2b": kinds.get("b2b", 0), "b2c": kinds.get("b2c", 0),
                      "without orders": customers_total - sum(buyer_counts.values()),
                      "one-time buyers": buyer_counts["one-time"],
                      "repeat buyers": buyer_counts["repeat"]},
        "orders by channel": dict(sorted(channels.items(), key=lambda kv: -kv[1])),
        "revenue": f"{Decimal(revenue):,.2f}",
        "bought together": _top_pairs(session, limit=3),
        "service due within 30 days": _service_due(session, as_of=as_of, days=30),
        "lifecycle stages": lifecycle_stages,
    }


def _day_after(as_of: date) -> datetime:
    return datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) + timedelta(days=1)


def _lifecycle_stages(session: Session, host: PluginHost, context: HookContext
                      ) -> dict[str, int]:
    """People per lifecycle stage as of ``context.now``, largest first: whatever the
    ``customer_attributes`` plugins say (the built-in one unless it is disabled or
    overridden) — the core never calls a plugin by name."""
    stages = Counter(str(stage) for profile in build_profiles(session, as_of=context.now)
                     if (stage := derive_attributes(host, context, profile)
                         .get("lifecycle_stage")) is not None)
    return dict(stages.most_common())


def _top_pairs(session: Session, *, limit: int) -> list[dict[str, Any]]:
    """Most frequent product pairs within one order: the seed of cross-selling."""
    a, b = aliased(OrderLineRecord), aliased(OrderLineRecord)
    pairs = session.execute(
        select(a.product_external_id, b.product_external_id, func.count().label("n"))
        .join(b, (a.order_id == b.order_id) & (a.product_external_id < b.product_external_id))
        .group_by(a.product_external_id, b.product_external_id)
        .order_by(func.count().desc(), a.product_external_id, b.product_external_id)
        .limit(limit)).all()
    ids = {pid for row in pairs for pid in row[:2]}
    names = dict(session.execute(select(ProductRecord.external_id, ProductRecord.name)
                                 .where(ProductRecord.external_id.in_(ids))).tuples().all())
    return [{"products": [names.get(x or "", x), names.get(y or "", y)], "orders": n}
            for x, y, n in pairs]


def _service_due(session: Session, *, as_of: date, days: int) -> int:
    due = 0
    rows = session.execute(select(InstalledBaseRecord.installed_at,
                                  InstalledBaseRecord.last_service_at,
                                  InstalledBaseRecord.service_interval_days)).all()
    for installed_at, last_service_at, interval in rows:
        if interval:
            next_due = (last_service_at or installed_at) + timedelta(days=interval)
            due += as_of <= next_due <= as_of + timedelta(days=days)
    return due
