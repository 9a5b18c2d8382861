"""WooCommerce JSON (wc/v3) → the contract's models, and WordPress meta value semantics.

Where the models have no WooCommerce field (customer kind, customer number, VAT id, marketing
consent, tags; product vendor) the values live in ``meta_data`` under ``<meta_prefix><field>``;
every other meta entry with the prefix is an attribute. Entries without the prefix belong to
WooCommerce or other plugins and are never read as attributes nor written.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shoploop.hooks import Address, AttributeValue, Customer, LineItem, Order, Product

CUSTOMER_FIELDS = ("kind", "customer_number", "vat_id", "accepts_marketing", "tags")
PRODUCT_FIELDS = ("vendor",)

# WooCommerce order statuses → the contract's; refunds turn paid ones partially_refunded.
ORDER_STATUS = {
    "pending": "pending", "on-hold": "pending", "checkout-draft": "pending",
    "processing": "paid", "completed": "fulfilled", "cancelled": "cancelled",
    "failed": "cancelled", "trash": "cancelled", "refunded": "refunded",
}
PRODUCT_STATUS = {"publish": "active", "draft": "draft", "pending": "draft",
                  "future": "draft", "private": "archived"}


def wp_meta_value(value: AttributeValue) -> Any:
    """What WordPress hands back after storing ``value`` as meta: scalars come back as strings
    (``true`` → ``"1"``, ``false``/``None`` → ``""``, ``42`` → ``"42"``); arrays stay arrays."""
    if isinstance(value, bool):
        return "1" if value else ""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return _php_number(value)
    if isinstance(value, list):
        return [wp_meta_value(v) for v in value]
    return str(value)


def _php_number(value: int | float) -> str:
    """PHP's string cast: floats with ``precision`` = 14 significant digits (0.1 + 0.2 is
    stored as "0.3"), so a float written twice compares equal to what WordPress kept."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return format(value, ".14G")


def same_meta(current: Any, wanted: AttributeValue) -> bool:
    """Is the stored meta value already what writing ``wanted`` would store?"""
    if isinstance(current, list):
        return isinstance(wanted, list) and [str(v) for v in current] == wp_meta_value(wanted)
    if isinstance(current, dict):
        return False
    return bool(wp_meta_value(current) == wp_meta_value(wanted))


def parse_time(value: Any) -> datetime | None:
    """``date_*_gmt`` fields are ISO 8601 without offset, in UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _money(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def prefixed_meta(meta: Any, prefix: str) -> dict[str, Any]:
    """First value per key of the entries whose key starts with ``prefix`` (prefix removed);
    WordPress allows repeated keys and ``update_meta_data`` changes the first one."""
    found: dict[str, Any] = {}
    for entry in meta or ():
        key = str(entry.get("key", ""))
        if key.startswith(prefix) and key[len(prefix):] not in found:
            found[key[len(prefix):]] = entry.get("value")
    return found


def attribute_value(value: Any) -> AttributeValue:
    """A meta value as an attribute value (what the import maps it to)."""
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    if isinstance(value, list):
        return [str(v) for v in value]
    return json.dumps(value, sort_keys=True)  # objects have no attribute type: keep as text


def _flag(value: Any) -> bool | None:
    if value in (None, ""):
        return None if value is None else False
    return str(value).lower() in ("1", "true", "yes")


def _tags(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    return [t for t in str(value or "").split(",") if t]


_ADDRESS_FIELDS = ("company", "address_1", "address_2", "postcode", "city", "country")


def _address(kind: str, data: Any) -> Address | None:
    """An address when any of its fields is filled (WooCommerce sends empty strings)."""
    if not isinstance(data, dict) or not any(data.get(f) for f in _ADDRESS_FIELDS):
        return None
    return Address(kind=kind, company=_text(data.get("company")),
                   line1=_text(data.get("address_1")), line2=_text(data.get("address_2")),
                   postal_code=_text(data.get("postcode")), city=_text(data.get("city")),
                   country=_text(data.get("country")))


def customer_from_woo(data: dict[str, Any], prefix: str) -> Customer:
    meta = prefixed_meta(data.get("meta_data"), prefix)
    billing = data.get("billing") or {}
    kind = meta.get("kind")
    return Customer(
        id=str(data["id"]),
        email=_text(data.get("email")),
        first_name=_text(data.get("first_name")),
        last_name=_text(data.get("last_name")),
        company=_text(billing.get("company")),
        phone=_text(billing.get("phone")),
        kind=kind if kind in ("b2b", "b2c") else None,
        customer_number=_text(meta.get("customer_number")),
        vat_id=_text(meta.get("vat_id")),
        accepts_marketing=_flag(meta.get("accepts_marketing")),
        addresses=[a for a in (_address("billing", billing),
                               _address("shipping", data.get("shipping"))) if a],
        tags=_tags(meta.get("tags")),
        attributes={k: attribute_value(v) for k, v in meta.items() if k not in CUSTOMER_FIELDS},
        created_at=parse_time(data.get("date_created_gmt")),
        updated_at=parse_time(data.get("date_modified_gmt")),
    )


CUSTOMER_READ_FIELDS = ("id", "email", "first_name", "last_name", "billing", "shipping",
                        "meta_data", "date_created_gmt", "date_modified_gmt")
"""The fields of a wc/v3 customer :func:`customer_from_woo` reads: what customer lists ask for
with ``_fields`` (a WordPress REST global parameter on every route,
https://developer.wordpress.org/rest-api/using-the-rest-api/global-parameters/) — about a
third of a full customer, and WordPress skips preparing the rest."""
_DIGESTED = tuple(f for f in CUSTOMER_READ_FIELDS if f not in ("meta_data", "date_modified_gmt"))


def customer_digest(data: dict[str, Any], prefix: str) -> str:
    """Short digest of what :func:`customer_from_woo` reads of a customer as WooCommerce sent
    it, but its modification date (a save that changes nothing we read is no change) and
    meta outside ``prefix`` (other plugins' keys). Taken before mapping, so an unchanged
    customer is never mapped. 48 bits: a missed change needs a collision of the *same*
    customer's two versions."""
    meta = [(m.get("key"), m.get("value")) for m in data.get("meta_data") or ()
            if str(m.get("key", "")).startswith(prefix)]
    raw = json.dumps([[data.get(f) for f in _DIGESTED], meta], separators=(",", ":"),
                     default=str)
    return hashlib.blake2b(raw.encode(), digest_size=6).hexdigest()


def _line(data: dict[str, Any]) -> LineItem:
    quantity = int(data.get("quantity") or 0)
    subtotal = _money(data.get("subtotal"))
    unit = (subtotal / quantity) if quantity else _money(data.get("price"))
    product = data.get("product_id")
    return LineItem(product_id=str(product) if product else None, sku=_text(data.get("sku")),
                    name=str(data.get("name") or ""), quantity=quantity,
                    unit_price=unit.quantize(Decimal("0.0001")).normalize() if unit else unit)


def order_from_woo(data: dict[str, Any], prefix: str) -> Order:
    refunded = sum((-_money(r.get("total")) for r in data.get("refunds") or ()), Decimal(0))
    status = ORDER_STATUS.get(str(data.get("status")), "pending")
    if refunded > 0 and status in ("paid", "fulfilled"):
        status = "partially_refunded"
    customer = data.get("customer_id")
    via = str(data.get("created_via") or "checkout")
    billing = data.get("billing") or {}
    meta = prefixed_meta(data.get("meta_data"), prefix)
    return Order(
        id=str(data["id"]),
        number=_text(data.get("number")),
        customer_id=str(customer) if customer else None,  # 0 means a guest checkout
        email=_text(billing.get("email")),
        placed_at=parse_time(data.get("date_created_gmt")) or datetime.now(UTC),
        updated_at=parse_time(data.get("date_modified_gmt")),
        currency=str(data.get("currency") or "EUR"),
        status=status,
        channel="web" if via in ("checkout", "store-api", "") else via,
        lines=[_line(item) for item in data.get("line_items") or ()],
        discount_codes=[str(c.get("code")) for c in data.get("coupon_lines") or ()],
        refunded_total=refunded,
        attributes={k: attribute_value(v) for k, v in meta.items()},
    )


def product_from_woo(data: dict[str, Any], prefix: str) -> Product:
    price = _money(data.get("price"))
    regular = _money(data.get("regular_price"))
    meta = prefixed_meta(data.get("meta_data"), prefix)
    categories = data.get("categories") or []
    attributes = {k: attribute_value(v) for k, v in meta.items() if k not in PRODUCT_FIELDS}
    attributes["upsell_ids"] = [str(i) for i in data.get("upsell_ids") or ()]
    attributes["cross_sell_ids"] = [str(i) for i in data.get("cross_sell_ids") or ()]
    return Product(
        id=str(data["id"]),
        sku=_text(data.get("sku")),
        name=str(data.get("name") or ""),
        price=price,
        compare_at_price=regular if data.get("sale_price") not in (None, "") and regular > price
        else None,
        stock=int(data["stock_quantity"]) if data.get("manage_stock")
        and data.get("stock_quantity") is not None else None,
        status=PRODUCT_STATUS.get(str(data.get("status")), "draft"),
        category=_text(categories[0].get("name")) if categories else None,
        tags=[str(t.get("name")) for t in data.get("tags") or ()],
        vendor=_text(meta.get("vendor")),
        attributes=attributes,
        updated_at=parse_time(data.get("date_modified_gmt")),
    )
