"""One data pool: every connection's products, customers and orders in one history.

- **Products** are unified by ``[reco] product_key`` (the SKU, the external id, or an
  attribute such as the ERP item number): products of different connections with the same key
  are one product. The :class:`PoolReport` lists products without a key, keys that match
  nothing in another connection, and keys that name several products of one connection.
- **Customers** are unified through the sync's identity bindings: bound customers of several
  connections are one customer; an unbound one is a customer of its connection alone.
- **Orders** of every source connection (shops and ERP) form one history of baskets, each
  line keyed by unified product, each order by unified customer.

Read through the store's public tables and functions only, in one read transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from shoploop.store import (
    OrderLineRecord,
    OrderRecord,
    ProductRecord,
    Store,
    resolve_internal_ids,
)

from ._days import day_of
from ._installed import Equipment, load_equipment
from ._segments import CustomerSegments, load_segments
from ._settings import RecoSettings

CUSTOMER = "customer"
"""The identity bindings' entity type for customers (the sync's)."""
REPORT_LIMIT = 100
"""Entries kept per list of the report (the counts are always complete)."""

IntArray = npt.NDArray[np.int32]


def product_key_of(data: Mapping[str, Any], product_key: str) -> str | None:
    """The unifying key of one mirrored product record, or None when it has none."""
    if product_key == "sku":
        value = data.get("sku")
    elif product_key == "id":
        value = data.get("id")
    else:
        value = (data.get("attributes") or {}).get(product_key.removeprefix("attributes."))
    if value is None or isinstance(value, (list, dict, bool)):
        return None
    text = str(value).strip()
    return text or None


@dataclass
class PoolReport:
    """What unifying found. Lists hold at most ``REPORT_LIMIT`` entries; counts are exact."""

    product_key: str
    products: int = 0
    """Unified products."""
    products_by_connection: dict[str, int] = field(default_factory=dict)
    unkeyed: int = 0
    unkeyed_examples: list[dict[str, str]] = field(default_factory=list)
    """Products without a key value: each is a product of its connection alone."""
    unmatched: int = 0
    unmatched_examples: list[dict[str, str]] = field(default_factory=list)
    """Products whose key no product of another connection has (only counted when products
    come from more than one connection)."""
    ambiguous: int = 0
    ambiguous_examples: list[dict[str, Any]] = field(default_factory=list)
    """Keys held by more than one product of one connection: their orders count for the one
    unified product; recommendations in that connection name the first id."""
    orders: int = 0
    orders_by_connection: dict[str, int] = field(default_factory=dict)
    lines: int = 0
    lines_unmatched: int = 0
    """Order lines whose product is in no connection's products (not mirrored, or custom
    items); left out of the history."""
    lines_unmatched_examples: list[dict[str, str | None]] = field(default_factory=list)
    """Distinct (connection, product id, SKU) of such lines."""
    customers: int = 0
    customers_unified: int = 0
    """Customers known in more than one connection (bound by the sync)."""
    guest_orders: int = 0

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


@dataclass
class Pool:
    """The unified history, as arrays (one entry per order line / order)."""

    product_keys: list[str]
    """Unified product index → key (``connection:id`` for products without a key)."""
    product_members: list[dict[str, list[str]]]
    """Unified product index → connection → its external ids there (sorted; usually one)."""
    product_records: dict[str, dict[str, dict[str, Any]]]
    """connection → external id → the mirrored product record (JSON)."""
    customer_ids: list[str]
    """Unified customer index → internal id (bound) or ``connection:external id``."""
    customer_members: list[dict[str, str]]
    """Unified customer index → connection → external id."""
    order_customer: IntArray
    """Per order: unified customer index, -1 for guest orders."""
    order_day: IntArray
    """Per order: the day it was placed (:func:`day_of`)."""
    line_order: IntArray
    """Per line: the order's index (0 … orders - 1)."""
    line_product: IntArray
    """Per line: the unified product index."""
    report: PoolReport
    segments: CustomerSegments = field(default_factory=CustomerSegments)
    """Every mirrored customer's segments (``[reco] segment_keys``), for *popular in the
    customer's segment*."""
    equipment: Equipment = field(default_factory=Equipment)
    """The installed base with its owners' accounts, for *spare parts and services due*."""

    @property
    def n_products(self) -> int:
        return len(self.product_keys)

    @property
    def n_orders(self) -> int:
        return len(self.order_day)


def _unify_products(session: Session, settings: RecoSettings, report: PoolReport,
                    ) -> tuple[list[str], list[dict[str, list[str]]],
                               dict[str, dict[str, dict[str, Any]]],
                               dict[tuple[str, str], int], dict[str, int]]:
    records: dict[str, dict[str, dict[str, Any]]] = {}
    rows = session.execute(select(ProductRecord.connection, ProductRecord.external_id,
                                  ProductRecord.data)
                           .order_by(ProductRecord.connection, ProductRecord.external_id)
                           .execution_options(yield_per=1000))
    for connection, external_id, data in rows:
        records.setdefault(connection, {})[external_id] = data
    keys: list[str] = []
    members: list[dict[str, list[str]]] = []
    by_key: dict[str, int] = {}
    by_external: dict[tuple[str, str], int] = {}
    for connection, products in records.items():
        report.products_by_connection[connection] = len(products)
        for external_id, data in products.items():
            key = product_key_of(data, settings.product_key)
            if key is None:
                report.unkeyed += 1
                if len(report.unkeyed_examples) < REPORT_LIMIT:
                    report.unkeyed_examples.append({"connection": connection,
                                                    "product_id": external_id})
                index = len(keys)
                keys.append(f"{connection}:{external_id}")
                members.append({connection: [external_id]})
            else:
                index = by_key.get(key, -1)
                if index < 0:
                    index = by_key[key] = len(keys)
                    keys.append(key)
                    members.append({})
                members[index].setdefault(connection, []).append(external_id)
            by_external[(connection, external_id)] = index
    multi_connection = len(records) > 1
    for index, held in enumerate(members):
        key = keys[index]
        if key not in by_key:
            continue
        for connection, ids in held.items():
            if len(ids) > 1:
                report.ambiguous += 1
                if len(report.ambiguous_examples) < REPORT_LIMIT:
                    report.ambiguous_examples.append({"connection": connection, "key": key,
                                                      "product_ids": ids})
        if multi_connection and len(held) == 1:
            report.unmatched += 1
            if len(report.unmatched_examples) < REPORT_LIMIT:
                [(connection, ids)] = held.items()
                report.unmatched_examples.append({"connection": connection,
                                                  "product_id": ids[0], "key": key})
    report.products = len(keys)
    return keys, members, records, by_external, by_key


def load_pool(store: Store, settings: RecoSettings) -> Pool:
    """Read the mirror into one :class:`Pool` (see the module docs)."""
    report = PoolReport(product_key=settings.product_key)
    with store.session() as session:
        keys, members, records, by_external, by_key = _unify_products(session, settings,
                                                                      report)
        line_key_is_sku = settings.product_key == "sku"
        query = (select(OrderRecord.id, OrderRecord.connection,
                        OrderRecord.customer_external_id, OrderRecord.placed_at,
                        OrderLineRecord.product_external_id, OrderLineRecord.sku)
                 .join(OrderLineRecord, OrderLineRecord.order_id == OrderRecord.id)
                 .where(OrderRecord.status.in_(settings.statuses))
                 .order_by(OrderRecord.id, OrderLineRecord.position))
        if settings.order_sources is not None:
            query = query.where(OrderRecord.connection.in_(settings.order_sources))
        order_of: dict[int, int] = {}
        order_connection: list[str] = []
        order_customer_ext: list[str | None] = []
        order_day: list[int] = []
        line_order: list[int] = []
        line_product: list[int] = []
        for row_id, connection, customer, placed_at, product_id, sku in session.execute(
                query.execution_options(yield_per=5000)):
            report.lines += 1
            product = -1
            if product_id is not None:
                product = by_external.get((connection, product_id), -1)
                if product < 0 and settings.product_key == "id":
                    product = by_key.get(product_id, -1)
            if product < 0 and line_key_is_sku and sku:
                product = by_key.get(sku.strip(), -1)
            if product < 0:
                report.lines_unmatched += 1
                example = {"connection": connection, "product_id": product_id, "sku": sku}
                if len(report.lines_unmatched_examples) < REPORT_LIMIT and \
                        example not in report.lines_unmatched_examples:
                    report.lines_unmatched_examples.append(example)
                continue
            order = order_of.get(row_id)
            if order is None:
                order = order_of[row_id] = len(order_day)
                order_connection.append(connection)
                order_customer_ext.append(customer)
                order_day.append(day_of(placed_at))
            line_order.append(order)
            line_product.append(product)
        customer_ids, customer_members, order_customer = _unify_customers(
            session, order_connection, order_customer_ext, report)
        segments = load_segments(session, settings.segment_keys)
        equipment = load_equipment(session, {*records, *order_connection})
    report.orders = len(order_day)
    for connection in order_connection:
        report.orders_by_connection[connection] = \
            report.orders_by_connection.get(connection, 0) + 1
    return Pool(
        product_keys=keys, product_members=[{c: sorted(ids) for c, ids in m.items()}
                                            for m in members],
        product_records=records, customer_ids=customer_ids,
        customer_members=customer_members,
        order_customer=np.asarray(order_customer, dtype=np.int32),
        order_day=np.asarray(order_day, dtype=np.int32),
        line_order=np.asarray(line_order, dtype=np.int32),
        line_product=np.asarray(line_product, dtype=np.int32),
        report=report, segments=segments, equipment=equipment,
    )


def _unify_customers(session: Session, order_connection: Sequence[str],
                     order_customer_ext: Sequence[str | None], report: PoolReport,
                     ) -> tuple[list[str], list[dict[str, str]], list[int]]:
    """Unified customer per order, through the identity bindings (public store API)."""
    wanted: dict[str, set[str]] = {}
    for connection, customer in zip(order_connection, order_customer_ext, strict=True):
        if customer is not None:
            wanted.setdefault(connection, set()).add(customer)
    bound: dict[tuple[str, str], str] = {}
    for connection, customers in wanted.items():
        for external, internal in resolve_internal_ids(session, connection, CUSTOMER,
                                                       sorted(customers)).items():
            bound[(connection, external)] = internal
    ids: list[str] = []
    members: list[dict[str, str]] = []
    index_of: dict[str, int] = {}
    per_order: list[int] = []
    for connection, customer in zip(order_connection, order_customer_ext, strict=True):
        if customer is None:
            report.guest_orders += 1
            per_order.append(-1)
            continue
        unified = bound.get((connection, customer)) or f"{connection}:{customer}"
        index = index_of.get(unified)
        if index is None:
            index = index_of[unified] = len(ids)
            ids.append(unified)
            members.append({})
        members[index].setdefault(connection, customer)
        per_order.append(index)
    report.customers = len(ids)
    report.customers_unified = sum(1 for m in members if len(m) > 1)
    return ids, members, per_order
