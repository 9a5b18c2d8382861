"""*Popular in the customer's segment*: what customers of one segment buy more than others.

A **segment** is one value of one of ``[reco] segment_keys`` — customer attributes such as
the ERP's ``industry`` and ``customer_group`` or the derived ``lifecycle_stage`` the sync
writes back (``kind`` is the b2b/b2c field) — read from every connection's mirrored
customers; bound customers are one person with the values of all their records. For segment
``s`` with ``M`` customers of whom ``N`` bought product ``p``, and ``p`` bought by a share
``q`` of all customers, the **smoothed share** is ``(N + prior·q) / (M + prior)``: a small
segment leans on overall popularity. A product is popular in ``s`` when at least
``segment_min_buyers`` of its customers bought it and its smoothed share beats ``q`` (lift
above 1); the best ``segment_products`` are kept per segment, and as many by overall share
for customers without a known segment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from shoploop.store import CustomerRecord, resolve_internal_ids

from ._arrays import unique_counts_sorted
from ._purchase_days import PurchaseDays

CUSTOMER = "customer"
"""The identity bindings' entity type for customers (the sync's, as in ``_pool``)."""

KEY_NAMES_DE = {"industry": "Branche", "customer_group": "Kundengruppe",
                "lifecycle_stage": "Lebenszyklusphase", "kind": "Kundenart"}


@dataclass
class CustomerSegments:
    """The segments of every mirrored customer (read by ``load_pool``)."""

    labels: list[str] = field(default_factory=list)
    """Segment index → ``key=value``."""
    people: dict[str, list[int]] = field(default_factory=dict)
    """Unified customer id (as in the pool) → their segments."""
    by_external: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    """connection → customer id → the person's segments (also customers without orders)."""


def segment_values(record: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    """``key=value`` of each segment key one customer record (JSON of ``Customer``, or a
    profile's attributes) has a value for; a list value names several segments."""
    attributes = record.get("attributes") or {}
    found: list[str] = []
    for key in keys:
        value = record.get("kind") if key == "kind" else attributes.get(key)
        for item in value if isinstance(value, list) else [value]:
            if item is None or isinstance(item, (bool, dict, list)):
                continue
            text = str(item).strip()
            if text:
                found.append(f"{key}={text}")
    return found


def load_segments(session: Session, keys: Sequence[str]) -> CustomerSegments:
    """Every mirrored customer's segments, people unified through the identity bindings: a
    shop account without attributes has the segments of the ERP customer it is bound to."""
    segments = CustomerSegments()
    if not keys:
        return segments
    rows: list[tuple[str, str, list[str]]] = []
    for connection, external_id, data in session.execute(
            select(CustomerRecord.connection, CustomerRecord.external_id, CustomerRecord.data)
            .order_by(CustomerRecord.connection, CustomerRecord.external_id)
            .execution_options(yield_per=2000)):
        rows.append((connection, external_id, segment_values(data, keys)))
    bound: dict[tuple[str, str], str] = {}
    for connection in sorted({row[0] for row in rows}):
        ids = [external for c, external, _ in rows if c == connection]
        for external, internal in resolve_internal_ids(session, connection, CUSTOMER,
                                                       ids).items():
            bound[(connection, external)] = internal
    index: dict[str, int] = {}
    person_of: dict[tuple[str, str], str] = {}
    for connection, external_id, values in rows:
        person = bound.get((connection, external_id)) or f"{connection}:{external_id}"
        person_of[(connection, external_id)] = person
        if not values:
            continue
        held = segments.people.setdefault(person, [])
        for label in values:
            number = index.setdefault(label, len(index))
            if number not in held:
                held.append(number)
    segments.labels = list(index)
    for (connection, external_id), person in person_of.items():
        if person in segments.people:
            segments.by_external.setdefault(connection, {})[external_id] = \
                segments.people[person]
    return segments


@dataclass(frozen=True)
class SegmentPopularity:
    """Per segment (CSR over ``indptr``) its popular products, best first; then overall."""

    labels: list[str]
    segment_customers: npt.NDArray[np.int32]
    """Per segment: its customers (M)."""
    indptr: npt.NDArray[np.int64]
    product: npt.NDArray[np.int32]
    buyers: npt.NDArray[np.int32]
    """Customers of the segment who bought the product (N)."""
    product_buyers: npt.NDArray[np.int32]
    """Per product: customers who bought it (all segments)."""
    customers: int
    """Customers in all (mirrored or with orders)."""
    top: npt.NDArray[np.int32]
    """The most bought products overall, best first."""
    by_external: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def of(self, segment: int) -> slice:
        return slice(int(self.indptr[segment]), int(self.indptr[segment + 1]))

    def smoothed(self, segment: int, buyers: int, product: int, prior: float) -> float:
        overall = float(self.product_buyers[product]) / max(self.customers, 1)
        return (buyers + prior * overall) / (float(self.segment_customers[segment]) + prior)


def fit_segments(segments: CustomerSegments, customer_ids: Sequence[str],
                 customer_members: Sequence[Mapping[str, str]], days: PurchaseDays,
                 n_products: int, *, prior: float, min_buyers: int,
                 keep: int) -> SegmentPopularity:
    """Who bought what is ``days``' pairs (``_purchase_days``: the fit's one sort of the
    lines)."""
    buyer, product = days.customer, days.product
    product_buyers = np.bincount(product, minlength=n_products).astype(np.int32)
    customers = len(set(customer_ids) | segments.people.keys())
    ranked = np.lexsort((np.arange(n_products), -product_buyers))[:keep]
    top = ranked[product_buyers[ranked] > 0].astype(np.int32)

    n_segments = len(segments.labels)
    sizes = np.zeros(n_segments, dtype=np.int32)
    for held in segments.people.values():
        sizes[held] += 1
    # (buyer, segment) pairs → (segment, product) counts by one unique over a joint key.
    of_customer = [segments.people.get(c, []) for c in customer_ids]
    counts = np.asarray([len(held) for held in of_customer], dtype=np.int64)
    flat = np.asarray([s for held in of_customer for s in held], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)))
    per_buyer = counts[buyer] if len(buyer) else np.zeros(0, dtype=np.int64)
    repeat_product = np.repeat(product, per_buyer)
    offsets = np.repeat(starts[buyer] if len(buyer) else np.zeros(0, dtype=np.int64),
                        per_buyer) + _ranges(per_buyer)
    joint, together = unique_counts_sorted(flat[offsets] * n_products + repeat_product)
    seg, prod = joint // n_products, joint % n_products
    overall = product_buyers[prod] / max(customers, 1)
    share = (together + prior * overall) / (sizes[seg] + prior)
    wanted = (together >= min_buyers) & (share > overall)
    seg, prod, together, share = seg[wanted], prod[wanted], together[wanted], share[wanted]
    order = np.lexsort((prod, -share, seg))
    seg, prod, together = seg[order], prod[order], together[order]
    rank = np.arange(len(seg)) - np.searchsorted(seg, seg)  # position within its segment
    kept = rank < keep
    seg, prod, together = seg[kept], prod[kept], together[kept]
    indptr = np.concatenate(([0], np.cumsum(np.bincount(seg, minlength=n_segments))))
    # A customer's accounts without a mirrored record (known from their orders, bound by the
    # sync) have the person's segments too.
    by_external = {connection: dict(ids) for connection, ids in segments.by_external.items()}
    for held, members in zip(of_customer, customer_members, strict=True):
        for connection, external_id in members.items() if held else ():
            by_external.setdefault(connection, {}).setdefault(external_id, held)
    return SegmentPopularity(
        labels=list(segments.labels), segment_customers=sizes,
        indptr=indptr.astype(np.int64), product=prod.astype(np.int32),
        buyers=together.astype(np.int32), product_buyers=product_buyers, customers=customers,
        top=top, by_external=by_external)


def _ranges(lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """``0 … n-1`` for each length, concatenated (vectorised)."""
    total = int(lengths.sum()) if len(lengths) else 0
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    ends = np.cumsum(lengths)
    return np.arange(total, dtype=np.int64) - np.repeat(ends - lengths, lengths)


def segments_of(popularity: SegmentPopularity, labels: Iterable[str]) -> list[int]:
    index = {label: n for n, label in enumerate(popularity.labels)}
    return [index[label] for label in labels if label in index]


def reasons(label: str | None, buyers: int, customers: int) -> dict[str, str]:
    """"Popular with customers in industry bakery (12 of 40 bought it)"."""
    if label is None:
        return {"en": f"Popular with our customers ({buyers} of {customers} bought it)",
                "de": f"Beliebt bei unseren Kunden ({buyers} von {customers} haben es "
                      "gekauft)"}
    key, _, value = label.partition("=")
    group_de = f"der {KEY_NAMES_DE[key]}" if key in KEY_NAMES_DE else f"mit {key}"
    return {"en": f"Popular with customers in {key.replace('_', ' ')} {value} "
                  f"({buyers} of {customers} bought it)",
            "de": f"Beliebt bei Kunden {group_de} {value} "
                  f"({buyers} von {customers} haben es gekauft)"}


def order_reasons(orders_with: int, orders: int) -> dict[str, str]:
    """"Popular with our customers: in 14 % of all orders (2,100 of 15,000)"."""
    share = max(1, round(100 * orders_with / max(orders, 1)))
    return {"en": f"Popular with our customers: in {share} % of all orders "
                  f"({orders_with:,} of {orders:,})",
            "de": f"Beliebt bei unseren Kunden: in {share} % aller Bestellungen "
                  f"({orders_with:,} von {orders:,})".replace(",", ".")}
