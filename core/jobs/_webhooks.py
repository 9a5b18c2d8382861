"""Processing stored webhook deliveries: the job behind the receiver's "answer first".

``process_deliveries`` is a plain function over (plugin host, config, store, connections): the
web app's in-process worker calls it after each accepted delivery, ``shoploop webhooks
process`` calls it by hand or from cron, and a job-queue worker (the scale-out issue) can call
the same function from a task. Per delivery, in this order:

1. the privacy requests (:func:`shoploop.privacy.handle_privacy_event`): a customer's or a
   shop's erasure, a data request's answer written into ``[privacy] export_dir``; after a
   ``shop/redact`` the connection's other deliveries of the same claim are dropped, not
   processed (erasing deleted them; processing them would mirror the shop's records again);
2. the order mirror: a connector that can turn a webhook into records
   (:class:`shoploop.hooks.ParsesWebhookRecords`) has them upserted into the store, without
   records of erased customers (the same rule as the mirror job);
3. the ``on_event`` hook, every plugin, each isolated (a failing plugin is logged, the
   delivery still counts as processed — the hook contract's rule).

A delivery whose processing raises goes back to ``pending`` until ``max_attempts`` claims were
used, then it is ``failed`` with the error (``shoploop webhooks process --retry-failed``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shoploop.hooks import Customer, Event, Order, ParsesWebhookRecords, Product, ShoploopError
from shoploop.privacy import SHOP_REDACT
from shoploop.store import (
    DELIVERY_FAILED,
    DELIVERY_PENDING,
    DELIVERY_PROCESSED,
    ClaimedDelivery,
    Store,
    claim_deliveries,
    erased_among,
    prune_deliveries,
    settle_delivery,
    upsert_customers,
    upsert_orders,
    upsert_products,
    utcnow,
)

if TYPE_CHECKING:
    from shoploop._config import Config
    from shoploop._connections import Connections
    from shoploop._plugins import PluginHost

log = logging.getLogger("shoploop.webhooks")

STALE_CLAIM = timedelta(minutes=5)
"""A claim older than this belongs to a worker that died; the delivery is claimed again."""


@dataclass
class ProcessResult:
    """What one ``process_deliveries`` call did."""

    processed: int = 0
    retried: int = 0
    failed: int = 0
    mirrored: int = 0
    pruned: int = 0
    """Processed deliveries older than ``[web] webhook_retention_days`` deleted."""
    errors: list[str] = field(default_factory=list)
    lag_seconds: list[float] = field(default_factory=list)
    """Per processed delivery, seconds from its arrival to the end of its processing."""


def _mirror(store: Store, connection: str, records: list[Any]) -> int:
    """Upsert what a webhook carried, dropping erased customers' records; returns the count."""
    customers = [r for r in records if isinstance(r, Customer)]
    orders = [r for r in records if isinstance(r, Order)]
    products = [r for r in records if isinstance(r, Product)]
    with store.session() as session:
        ids = {c.id for c in customers} | {o.customer_id for o in orders if o.customer_id}
        erased = erased_among(session, connection, ids) if ids else set()
        customers = [c for c in customers if c.id not in erased]
        orders = [o for o in orders if o.customer_id not in erased]
        if customers:
            upsert_customers(session, connection, customers)
        if products:
            upsert_products(session, connection, products)
        if orders:
            upsert_orders(session, connection, orders)
    return len(customers) + len(orders) + len(products)


def process_event(host: PluginHost, config: Config, store: Store, connections: Connections,
                  event: Event, *, now: datetime | None = None,
                  delivery_id: int | None = None) -> int:
    """Apply one verified event (privacy, mirror, ``on_event``); returns records mirrored.
    ``delivery_id``: the stored delivery it came from (a ``shop/redact`` keeps that one)."""
    from shoploop._context import hook_context
    from shoploop.privacy import handle_privacy_event

    handle_privacy_event(store, event, export_dir=config.privacy_export_dir,
                         keep_deliveries=() if delivery_id is None else (delivery_id,))
    mirrored = 0
    if event.connection in config.connections:
        connector = connections[event.connection]
        if isinstance(connector, ParsesWebhookRecords):
            mirrored = _mirror(store, event.connection, list(connector.webhook_records(event)))
    context = hook_context(config, connections, store=store, now=now)
    host.call("on_event", context=context, event=event)
    return mirrored


def process_deliveries(host: PluginHost, config: Config, store: Store, connections: Connections,
                       *, limit: int = 100, max_attempts: int = 5, retry_failed: bool = False,
                       stale_after: timedelta = STALE_CLAIM,
                       clock: Callable[[], datetime] = utcnow) -> ProcessResult:
    """Claim up to ``limit`` deliveries and process each (see the module docs); first delete
    the processed ones past ``[web] webhook_retention_days``."""
    result = ProcessResult()
    retention = timedelta(days=config.web.webhook_retention_days)
    with store.session() as session:
        # The shop/redact delivery stays: the record that the shop's data was erased.
        result.pruned = prune_deliveries(session, processed_before=clock() - retention,
                                         keep_types=(SHOP_REDACT,))
        claimed = claim_deliveries(session, limit=limit, stale_after=stale_after,
                                   retry_failed=retry_failed, now=clock())
    erased: set[str] = set()
    for delivery in claimed:
        if delivery.connection in erased:
            continue  # deleted by the shop/redact before it: nothing to process or settle
        processed = result.processed
        _process_one(host, config, store, connections, delivery, max_attempts, clock, result)
        if delivery.event.get("type") == SHOP_REDACT and result.processed > processed:
            erased.add(delivery.connection)
    return result


def _process_one(host: PluginHost, config: Config, store: Store, connections: Connections,
                 delivery: ClaimedDelivery, max_attempts: int,
                 clock: Callable[[], datetime], result: ProcessResult) -> None:
    try:
        event = Event.model_validate(delivery.event)
        result.mirrored += process_event(host, config, store, connections, event, now=clock(),
                                         delivery_id=delivery.id)
    except (ShoploopError, ValueError, LookupError, TypeError) as exc:
        # Expected failures (a payload without what it needs, a store or connector error);
        # anything else is a bug and propagates to the worker, which logs it with its trace.
        error = f"{type(exc).__name__}: {exc}"
        status = DELIVERY_FAILED if delivery.attempts >= max_attempts else DELIVERY_PENDING
        with store.session() as session:
            settle_delivery(session, delivery.id, status, error=error)
        log.warning("webhook delivery %s (%s) failed, attempt %s of %s: %s", delivery.id,
                    delivery.connection, delivery.attempts, max_attempts, error)
        result.errors.append(f"{delivery.id}: {error}")
        if status == DELIVERY_FAILED:
            result.failed += 1
        else:
            result.retried += 1
        return
    finished = clock()
    with store.session() as session:
        settle_delivery(session, delivery.id, DELIVERY_PROCESSED, now=finished)
    result.processed += 1
    result.lag_seconds.append(max(0.0, (finished - delivery.received_at).total_seconds()))


def process_stored(host: PluginHost, config: Config, store: Store, connections: Connections,
                   *, limit: int = 10_000, retry_failed: bool = False) -> dict[str, Any]:
    """Process up to ``limit`` stored deliveries, 100 claims at a time, until none is left
    (``shoploop webhooks process`` and the ``webhooks-process`` job): the totals and every
    error. A failed delivery gets one more try per call with ``retry_failed``."""
    store.check_schema()
    total: dict[str, Any] = {"processed": 0, "retried": 0, "failed": 0, "mirrored": 0,
                             "pruned": 0, "errors": []}
    while (done := total["processed"] + total["retried"] + total["failed"]) < limit:
        result = process_deliveries(host, config, store, connections,
                                    limit=min(100, limit - done),
                                    max_attempts=config.web.webhook_max_attempts,
                                    retry_failed=retry_failed)
        for key in ("processed", "retried", "failed", "mirrored", "pruned"):
            total[key] += getattr(result, key)
        total["errors"].extend(result.errors)
        retry_failed = False  # failed ones get one more try per invocation
        if result.processed == 0:
            break
    return total
