"""Domain model → row of a mirror table. ``data`` is the model's JSON; ``content_hash`` a
hash of exactly that text, so an unchanged record is recognised without comparing columns
and the JSON is serialised once per record (pydantic's serializer, not ``json.dumps``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from shoploop.hooks import Customer, InstalledEquipment, Order, Product

Row = dict[str, Any]


def canonical_json(data: Any) -> str:
    """Compact JSON with sorted keys: equal content, equal text."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def content_hash(data: Mapping[str, Any]) -> str:
    """A stable 128-bit hash of a JSON-serialisable mapping (key order does not matter)."""
    return _digest(canonical_json(data))


class RawJSON(str):
    """JSON text that the store's serializer (:func:`json_dumps`) passes through verbatim."""

    __slots__ = ()


def json_dumps(value: Any) -> str:
    """The engine's JSON serializer: ``RawJSON`` as is, anything else through ``json``."""
    return str(value) if isinstance(value, RawJSON) else json.dumps(value)


def model_json(model: BaseModel) -> str:
    """The model's JSON (pydantic's fast serializer; fields in declaration order), with a
    free-form ``attributes`` mapping sorted by key so its insertion order never matters."""
    attributes = getattr(model, "attributes", None)
    if attributes and list(attributes) != sorted(attributes):
        model = model.model_copy(update={"attributes": dict(sorted(attributes.items()))})
    return model.model_dump_json()


def _base(connection: str, model: Any, updated_at: datetime | None, now: datetime) -> Row:
    text = model_json(model)
    return {
        "connection": connection,
        "external_id": model.id,
        "data": RawJSON(text),
        "content_hash": _digest(text),
        "source_updated_at": updated_at,
        "mirrored_at": now,
    }


def customer_row(connection: str, customer: Customer, now: datetime) -> Row:
    row = _base(connection, customer, customer.updated_at, now)
    row.update(
        email=customer.email, kind=customer.kind, customer_number=customer.customer_number,
        vat_id=customer.vat_id,
    )
    return row


def product_row(connection: str, product: Product, now: datetime) -> Row:
    row = _base(connection, product, product.updated_at, now)
    row.update(
        sku=product.sku, name=product.name, price=product.price, currency=product.currency,
        stock=product.stock, category=product.category, status=product.status,
    )
    return row


def order_row(connection: str, order: Order, now: datetime) -> Row:
    row = _base(connection, order, order.updated_at, now)
    row.update(
        number=order.number, customer_external_id=order.customer_id, email=order.email,
        placed_at=order.placed_at, status=order.status, channel=order.channel,
        currency=order.currency, total=order.total,
    )
    return row


def order_line_rows(order_id: int, order: Order) -> list[Row]:
    return [
        {
            "order_id": order_id, "position": position, "product_external_id": line.product_id,
            "sku": line.sku, "name": line.name, "quantity": line.quantity,
            "unit_price": line.unit_price,
        }
        for position, line in enumerate(order.lines)
    ]


def installed_row(connection: str, item: InstalledEquipment, now: datetime) -> Row:
    row = _base(connection, item, item.updated_at, now)
    row.update(
        customer_external_id=item.customer_id, product_external_id=item.product_id,
        serial_number=item.serial_number, installed_at=item.installed_at,
        service_interval_days=item.service_interval_days, last_service_at=item.last_service_at,
    )
    return row
