"""The emulator's store: WooCommerce-shaped records (integer ids, ``billing``/``shipping``,
``meta_data``, ``line_items``, ``coupon_lines``, ``date_modified_gmt``…), seeded from the demo
merchant or from lists of the contract's models (the conformance kit's datasets).

Ids are assigned by position (1, 2, …) per stream; ``source_ids`` keeps the original ids so
tests can map records back. A customer created through the API gets the next id (WordPress
never reuses user ids) and, having no source record, maps to its own id as text. Meta values
are stored the way WordPress stores them: scalars as strings, arrays as arrays
(``wp_meta_value``).
"""

from __future__ import annotations

import itertools
import threading
import zlib
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .._mapping import ORDER_STATUS, PRODUCT_STATUS, format_time, wp_meta_value
from . import _documented as documented

META_PREFIX = "shoploop_"
_STATUS_TO_WOO = {"pending": "pending", "paid": "processing", "fulfilled": "completed",
                  "cancelled": "cancelled", "refunded": "refunded",
                  "partially_refunded": "processing"}
_PRODUCT_TO_WOO = {"active": "publish", "draft": "draft", "archived": "private"}
assert set(_STATUS_TO_WOO.values()) <= set(ORDER_STATUS)
assert set(_PRODUCT_TO_WOO.values()) <= set(PRODUCT_STATUS)

Record = dict[str, Any]


def _gmt(value: Any) -> str:
    if not value:
        return format_time(datetime.now(UTC))
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return format_time(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def now_gmt() -> str:
    return format_time(datetime.now(UTC))


class WooData:
    """All records, guarded by one lock (the server answers on many threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[int, Record] = {}
        self.products: dict[int, Record] = {}
        self.orders: dict[int, Record] = {}
        self.coupons: dict[int, Record] = {}
        self.source_ids: dict[str, dict[int, str]] = {"customers": {}, "products": {},
                                                       "orders": {}}
        self.meta_changes: Counter[tuple[int, str]] = Counter()
        """(customer id, meta key) → how often its value really changed (exactly-once checks)."""
        self.meta_sent: Counter[tuple[int, str]] = Counter()
        """(customer id, meta key) → how often a write carried it, changed or not (proves that
        nothing was sent twice, e.g. by a crashed sync that resumed)."""
        self.product_list_writes: Counter[int] = Counter()
        """product id → updates that changed its ``upsell_ids`` / ``cross_sell_ids``."""
        self._meta_ids = itertools.count(1)
        self._coupon_ids = itertools.count(1)
        self._last_customer_id = 0

    # -- seeding ------------------------------------------------------------------------------

    def seed(self, customers: Iterable[Mapping[str, Any]], products: Iterable[Mapping[str, Any]],
             orders: Iterable[Mapping[str, Any]]) -> None:
        """Load records in the models' JSON shape (``model_dump(mode="json")`` or the demo
        merchant's dicts), replacing what was there."""
        with self.lock:
            self.customers.clear()
            self.products.clear()
            self.orders.clear()
            for stream in self.source_ids.values():
                stream.clear()
            customer_ids = self._assign("customers", customers, self._customer, self.customers)
            self._last_customer_id = 0  # a new store: ids continue after the seeded ones
            product_ids = self._assign("products", products, self._product, self.products)
            for number, order in enumerate(orders, 1):
                self.source_ids["orders"][number] = str(order["id"])
                self.orders[number] = self._order(number, order, customer_ids, product_ids)

    def _assign(self, stream: str, records: Iterable[Mapping[str, Any]], convert: Any,
                target: dict[int, Record]) -> dict[str, int]:
        ids: dict[str, int] = {}
        for number, record in enumerate(records, 1):
            ids[str(record["id"])] = number
            self.source_ids[stream][number] = str(record["id"])
            target[number] = convert(number, record)
        return ids

    def woo_id(self, stream: str, source_id: str) -> int:
        return next(k for k, v in self.source_ids[stream].items() if v == source_id)

    def _meta(self, values: Mapping[str, Any]) -> list[Record]:
        return [{"id": next(self._meta_ids), "key": META_PREFIX + key,
                 "value": wp_meta_value(value)} for key, value in values.items()]

    def _customer(self, number: int, c: Mapping[str, Any]) -> Record:
        addresses = {a.get("kind"): a for a in c.get("addresses") or ()}
        billing, shipping = addresses.get("billing") or {}, addresses.get("shipping") or {}
        first, last = c.get("first_name") or "", c.get("last_name") or ""

        def address(a: Mapping[str, Any], company: str | None) -> Record:
            return {"first_name": first, "last_name": last, "company": company or "",
                    "address_1": a.get("line1") or "", "address_2": a.get("line2") or "",
                    "city": a.get("city") or "", "state": "",
                    "postcode": a.get("postal_code") or "", "country": a.get("country") or ""}

        meta: dict[str, Any] = {}
        for field in ("kind", "customer_number", "vat_id"):
            if c.get(field) is not None:
                meta[field] = c[field]
        if c.get("accepts_marketing") is not None:
            meta["accepts_marketing"] = c["accepts_marketing"]
        if c.get("tags"):
            meta["tags"] = list(c["tags"])
        meta.update(c.get("attributes") or {})
        email = c.get("email") or ""
        created = _gmt(c.get("created_at"))
        return documented.complete({
            "id": number, "date_created": created, "date_created_gmt": created,
            "date_modified": _gmt(c.get("updated_at") or c.get("created_at")),
            "date_modified_gmt": _gmt(c.get("updated_at") or c.get("created_at")),
            "email": email, "first_name": first, "last_name": last, "role": "customer",
            "username": email.split("@")[0] or f"user{number}",
            "billing": {**address(billing, c.get("company") or billing.get("company")),
                        "email": email, "phone": c.get("phone") or ""},
            "shipping": {**address(shipping, shipping.get("company")), "phone": ""},
            "is_paying_customer": False, "avatar_url": "",
            "meta_data": self._meta(meta),
        }, documented.CUSTOMER)

    def _product(self, number: int, p: Mapping[str, Any]) -> Record:
        price = str(p.get("price") or "0")
        compare = p.get("compare_at_price")
        meta = dict(p.get("attributes") or {})
        if p.get("vendor"):
            meta["vendor"] = p["vendor"]
        modified = _gmt(p.get("updated_at"))
        category = p.get("category")
        return documented.complete({
            "id": number, "name": p.get("name") or "", "slug": f"product-{number}",
            "sku": p.get("sku") or "", "price": price,
            "regular_price": str(compare) if compare else price,
            "sale_price": price if compare else "",
            "status": _PRODUCT_TO_WOO.get(str(p.get("status")), "publish"),
            "manage_stock": p.get("stock") is not None, "stock_quantity": p.get("stock"),
            "stock_status": "instock" if (p.get("stock") or 0) > 0 or p.get("stock") is None
            else "outofstock",
            "categories": [{"id": zlib.crc32(str(category).encode()) % 10_000, "name": category,
                            "slug": str(category).lower()}] if category else [],
            "tags": [{"id": i + 1, "name": t, "slug": t}
                     for i, t in enumerate(p.get("tags") or ())],
            "upsell_ids": [], "cross_sell_ids": [], "date_created": modified,
            "date_created_gmt": modified, "date_modified": modified,
            "date_modified_gmt": modified, "meta_data": self._meta(meta),
        }, documented.PRODUCT)

    def _order(self, number: int, o: Mapping[str, Any], customers: Mapping[str, int],
               products: Mapping[str, int]) -> Record:
        lines = []
        for index, line in enumerate(o.get("lines") or (), 1):
            unit, quantity = Decimal(str(line.get("unit_price") or 0)), int(line["quantity"])
            total = f"{unit * quantity:.2f}"
            lines.append(documented.complete(
                {"id": number * 100 + index, "name": line.get("name") or "",
                 "product_id": products.get(str(line.get("product_id")), 0),
                 "variation_id": 0, "quantity": quantity, "subtotal": total,
                 "subtotal_tax": "0.00", "total": total, "total_tax": "0.00",
                 "sku": line.get("sku") or "", "price": float(unit)}, documented.LINE_ITEM))
        refunded = Decimal(str(o.get("refunded_total") or 0))
        channel = o.get("channel") or "web"
        created = _gmt(o.get("placed_at"))
        status = _STATUS_TO_WOO.get(str(o.get("status")), "pending")
        paid = created if status in ("processing", "completed", "refunded") else None
        return documented.complete({
            "id": number, "parent_id": 0, "number": o.get("number") or str(number),
            "order_key": f"wc_order_{number:08d}",
            "created_via": "checkout" if channel == "web" else channel,
            "status": status, "currency": o.get("currency") or "EUR",
            "date_paid": paid, "date_paid_gmt": paid,
            "date_created": created, "date_created_gmt": created,
            "date_modified": _gmt(o.get("updated_at") or o.get("placed_at")),
            "date_modified_gmt": _gmt(o.get("updated_at") or o.get("placed_at")),
            "customer_id": customers.get(str(o.get("customer_id")), 0),
            "billing": {"email": o.get("email") or ""},
            "line_items": lines,
            "coupon_lines": [{"id": i + 1, "code": str(code).lower(), "discount": "0.00"}
                             for i, code in enumerate(o.get("discount_codes") or ())],
            "refunds": [{"id": number, "reason": "", "total": f"-{refunded:.2f}"}]
            if refunded else [],
            "total": f"{sum(Decimal(line['total']) for line in lines):.2f}",
            "meta_data": self._meta(o.get("attributes") or {}),
        }, documented.ORDER)

    # -- writes -------------------------------------------------------------------------------

    def update_meta(self, record: Record, entries: Iterable[Mapping[str, Any]],
                    customer_id: int | None = None) -> bool:
        """WooCommerce's ``update_meta_data`` per entry: by meta ``id`` if given, else the first
        entry with the key, else a new entry. Keys not mentioned are left alone."""
        changed = False
        meta: list[Record] = record.setdefault("meta_data", [])
        for entry in entries:
            key, value = str(entry.get("key", "")), wp_meta_value(entry.get("value"))
            if customer_id is not None:
                self.meta_sent[(customer_id, key)] += 1
            target = None
            if entry.get("id") is not None:
                target = next((m for m in meta if m["id"] == entry["id"]), None)
            if target is None:
                target = next((m for m in meta if m["key"] == key), None)
            if target is None:
                meta.append({"id": next(self._meta_ids), "key": key, "value": value})
            elif target["value"] == value and target["key"] == key:
                continue
            else:
                target.update(key=key, value=value)
            changed = True
            if customer_id is not None:
                self.meta_changes[(customer_id, key)] += 1
        return changed

    def create_customer(self, item: Mapping[str, Any], username: str) -> Record:
        """A new customer from an accepted wc/v3 create body (the caller holds ``lock``):
        role ``customer``, both dates now, billing/shipping from the body."""
        number = self._last_customer_id = max(self._last_customer_id,
                                               max(self.customers, default=0)) + 1
        now = now_gmt()

        def address(given: Any, *fields: str) -> Record:
            given = given if isinstance(given, Mapping) else {}
            return {f: str(given.get(f) or "") for f in (
                "first_name", "last_name", "company", "address_1", "address_2", "city", "state",
                "postcode", "country", *fields)}

        record: Record = {
            "id": number, "date_created": now, "date_created_gmt": now,
            "date_modified": now, "date_modified_gmt": now,
            "email": str(item["email"]), "first_name": str(item.get("first_name") or ""),
            "last_name": str(item.get("last_name") or ""), "role": "customer",
            "username": username,
            "billing": address(item.get("billing"), "email", "phone"),
            "shipping": address(item.get("shipping"), "phone"),
            "is_paying_customer": False, "avatar_url": "", "meta_data": [],
        }
        documented.complete(record, documented.CUSTOMER)
        self.update_meta(record, item.get("meta_data") or (), number)
        self.customers[number] = record
        self.source_ids["customers"][number] = str(number)
        return record

    def use_coupon(self, code: str, email: str) -> Record:
        """A checkout that applied ``code``: what ``WC_Coupon::increase_usage`` records
        (``usage_count`` up, the buyer in ``used_by``)."""
        with self.lock:
            coupon = next(c for c in self.coupons.values() if c["code"] == code.lower())
            coupon["usage_count"] = int(coupon.get("usage_count") or 0) + 1
            coupon.setdefault("used_by", []).append(email)
            coupon["date_modified_gmt"] = now_gmt()
            return coupon

    def add_coupon(self, data: Mapping[str, Any]) -> Record:
        number = next(self._coupon_ids)
        now = now_gmt()
        coupon = {
            "id": number, "code": str(data.get("code", "")).lower(),
            "amount": str(data.get("amount") or "0"),
            "discount_type": data.get("discount_type") or "fixed_cart",
            "description": data.get("description") or "",
            "date_expires_gmt": data.get("date_expires_gmt"),
            "individual_use": bool(data.get("individual_use")),
            "usage_limit": data.get("usage_limit"),
            "usage_limit_per_user": data.get("usage_limit_per_user"),
            "email_restrictions": list(data.get("email_restrictions") or []),
            "usage_count": 0, "date_created_gmt": now, "date_modified_gmt": now,
            "meta_data": [],
        }
        self.update_meta(coupon, data.get("meta_data") or ())
        self.coupons[number] = coupon
        return coupon
