"""The emulated shop's data, held in Shopify's own shapes (``gid://shopify/Customer/N`` ids,
``legacyResourceId``, money bags, upper-case enums), seeded from the contract's models — the
demo data generator's records or a conformance dataset.

Seeded records keep a stable numeric id derived from their model id (:func:`numeric_id`), so
the same dataset seeded twice — or a changed copy of it — has the same Shopify ids.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from shoploop.hooks import AttributeValue, Customer, Order, Product

NAMESPACE = "shoploop"
_BASE = {"Customer": 6_000_000_000_000, "Product": 8_000_000_000_000,
         "Order": 5_000_000_000_000, "DiscountCodeNode": 1_000_000_000_000,
         "GiftCard": 2_000_000_000_000}
_CREATED_BLOCK = 950 * 10**9
"""Customers created through ``customerCreate`` are numbered from here: above every seeded id
(blocks 0-899 and the hashed ids just above them), so new ids sort last, as Shopify's do."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
def plain_phone(value: str) -> str | None:
    """A phone as Shopify stores it: without spaces, dashes, dots and parentheses."""
    return re.sub(r"[\s().-]", "", value.strip()) or None


_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")  # E.164, once spaces, dashes, dots and () are gone
_STATUS = {"paid": "PAID", "fulfilled": "PAID", "pending": "PENDING", "cancelled": "VOIDED",
           "refunded": "REFUNDED", "partially_refunded": "PARTIALLY_REFUNDED"}


def numeric_id(kind: str, model_id: str) -> int:
    """The Shopify id a seeded record of ``kind`` gets for its model id: a per-type base, a
    block per letter prefix and the number (``C00042`` → 6xxx0000000043), or a hash for ids of
    another shape. Deterministic, so reseeding a changed dataset keeps the ids."""
    match = re.fullmatch(r"([A-Za-z_-]{0,8})(\d{1,9})", model_id)
    if match:  # the prefix picks one of 900 blocks of 10^9 ids, so C1 and D1 never collide
        block = int(hashlib.sha256(match[1].encode()).hexdigest()[:8], 16) % 900
        return _BASE[kind] + block * 10**9 + int(match[2]) + 1
    return _BASE[kind] + 900 * 10**9 + int(hashlib.sha256(model_id.encode()).hexdigest()[:8], 16)


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def timestamp(value: datetime | None) -> str:
    """Shopify's ISO 8601 form: UTC, seconds, ``Z``."""
    moment = (value or datetime(2024, 1, 1, tzinfo=UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> str:
    return timestamp(datetime.now(UTC))


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def metafield_for(owner: str, namespace: str, key: str, type_: str, value: str,
                  stamp: str) -> dict[str, Any]:
    return {"__typename": "Metafield", "id": gid("Metafield", abs(hash((owner, namespace, key)))),
            "namespace": namespace, "key": key, "type": type_, "value": value,
            "compareDigest": digest(value), "ownerType": owner.split("/")[3].upper(),
            "createdAt": stamp, "updatedAt": stamp}


def _typed(value: AttributeValue) -> tuple[str, str] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "number_integer", str(value)
    if isinstance(value, float):
        return "number_decimal", repr(value)
    if isinstance(value, list):
        return "list.single_line_text_field", json.dumps(value)
    return ("multi_line_text_field" if "\n" in value else "single_line_text_field"), value


def _metafields(owner: str, attributes: Mapping[str, AttributeValue], stamp: str
                ) -> dict[tuple[str, str], dict[str, Any]]:
    out = {}
    for key, value in attributes.items():
        typed = _typed(value)
        if typed is not None:
            out[(NAMESPACE, key)] = metafield_for(owner, NAMESPACE, key, *typed, stamp)
    return out


def _money(amount: Decimal | str, currency: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": str(amount), "currencyCode": currency}}


class ShopData:
    """Customers, products, orders, discounts and metafields of one shop, by gid. One lock
    serialises writes (the emulator answers requests on several threads)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.customers: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.discounts: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, str] = {}  # upper-cased code -> discount node gid
        self.gift_cards: dict[str, dict[str, Any]] = {}
        self.gift_card_codes: dict[str, str] = {}  # upper-cased code -> gift card gid
        self.source_ids: dict[str, str] = {}  # gid -> the model id it was seeded from
        self._next_discount = 1
        self._next_gift_card = 1
        self._next_customer = 1
        # metafieldsSet writes per (owner gid, namespace, key), same value or not: tests prove
        # with it that nothing was sent twice (a crashed sync resuming, a retried call).
        self.metafield_writes: Counter[tuple[str, str, str]] = Counter()

    def clear(self) -> None:
        with self.lock:
            self.customers.clear()
            self.products.clear()
            self.orders.clear()
            self.discounts.clear()
            self.codes.clear()
            self.gift_cards.clear()
            self.gift_card_codes.clear()
            self.source_ids.clear()

    def node(self, node_id: str) -> dict[str, Any] | None:
        for table in (self.customers, self.products, self.orders, self.discounts,
                      self.gift_cards):
            if node_id in table:
                return table[node_id]
        return None

    # -- seeding ------------------------------------------------------------------------------

    def load(self, *, customers: Iterable[Customer | Mapping[str, Any]] = (),
             products: Iterable[Product | Mapping[str, Any]] = (),
             orders: Iterable[Order | Mapping[str, Any]] = ()) -> None:
        """Add records given as models or as dicts in the models' JSON shape (demo data)."""
        with self.lock:
            for product in products:
                self._add_product(Product.model_validate(product))
            for customer in customers:
                self._add_customer(Customer.model_validate(customer))
            for order in orders:
                self._add_order(Order.model_validate(order))

    def _add_customer(self, customer: Customer) -> None:
        number = numeric_id("Customer", customer.id)
        node_id = gid("Customer", number)
        addresses = [{"company": a.company, "address1": a.line1, "address2": a.line2,
                      "zip": a.postal_code, "city": a.city, "countryCodeV2": a.country}
                     for a in customer.addresses]
        if customer.company and not addresses:
            addresses = [{"company": customer.company}]
        consent = {True: "SUBSCRIBED", False: "UNSUBSCRIBED", None: "NOT_SUBSCRIBED"}
        updated = timestamp(customer.updated_at or customer.created_at)
        self.customers[node_id] = {
            "__typename": "Customer", "id": node_id, "legacyResourceId": str(number),
            "email": customer.email, "firstName": customer.first_name,
            "lastName": customer.last_name, "phone": customer.phone, "note": None,
            "tags": sorted(set(customer.tags)),
            "createdAt": timestamp(customer.created_at or customer.updated_at),
            "updatedAt": updated,
            "defaultAddress": addresses[0] if addresses else None, "addresses": addresses,
            "emailMarketingConsent": {"marketingState": consent[customer.accepts_marketing]},
            "_metafields": _metafields(node_id, customer.attributes, updated),
        }
        self.source_ids[node_id] = customer.id

    def _add_product(self, product: Product) -> None:
        number = numeric_id("Product", product.id)
        node_id = gid("Product", number)
        updated = timestamp(product.updated_at)
        self.products[node_id] = {
            "__typename": "Product", "id": node_id, "legacyResourceId": str(number),
            "title": product.name, "status": product.status.upper(),
            "vendor": product.vendor or "", "productType": product.category or "",
            "tags": sorted(set(product.tags)), "createdAt": updated, "updatedAt": updated,
            "tracksInventory": product.stock is not None,
            "totalInventory": product.stock or 0,
            "_variants": [{"__typename": "ProductVariant", "id": gid("ProductVariant", number),
                           "sku": product.sku, "price": str(product.price),
                           "compareAtPrice": None if product.compare_at_price is None
                           else str(product.compare_at_price),
                           "inventoryQuantity": product.stock}],
            "_metafields": _metafields(node_id, product.attributes, updated),
        }
        self.source_ids[node_id] = product.id

    def _add_order(self, order: Order) -> None:
        number = numeric_id("Order", order.id)
        node_id = gid("Order", number)
        customer = gid("Customer", numeric_id("Customer", order.customer_id)) \
            if order.customer_id else None
        lines = []
        for index, line in enumerate(order.lines):
            product = gid("Product", numeric_id("Product", line.product_id)) \
                if line.product_id else None
            lines.append({"id": gid("LineItem", number * 100 + index), "name": line.name,
                          "sku": line.sku, "quantity": line.quantity, "_product": product,
                          "originalUnitPriceSet": _money(line.unit_price, order.currency)})
        self.orders[node_id] = {
            "__typename": "Order", "id": node_id, "legacyResourceId": str(number),
            "name": f"#{order.number or number}", "email": order.email,
            "createdAt": timestamp(order.placed_at), "processedAt": timestamp(order.placed_at),
            "updatedAt": timestamp(order.updated_at or order.placed_at),
            "cancelledAt": timestamp(order.updated_at or order.placed_at)
            if order.status == "cancelled" else None,
            "currencyCode": order.currency,
            "displayFinancialStatus": _STATUS[order.status],
            "displayFulfillmentStatus": "FULFILLED" if order.status == "fulfilled"
            else "UNFULFILLED",
            "sourceName": order.channel, "discountCodes": list(order.discount_codes),
            "customAttributes": [{"key": k, "value": None if v is None else str(v)}
                                 for k, v in order.attributes.items()],
            "_customer": customer,
            "totalRefundedSet": _money(order.refunded_total, order.currency),
            "refunds": [{"createdAt": timestamp(order.refunded_at or order.updated_at
                                                or order.placed_at),
                         "_amount": str(order.refunded_total)}] if order.refunded_total else [],
            "_lines": lines,
        }
        self.source_ids[node_id] = order.id

    # -- customerCreate -------------------------------------------------------------------------

    def customer_by_email(self, email: str) -> dict[str, Any] | None:
        """The customer holding ``email`` (case-insensitive), as Shopify's unique key."""
        wanted = email.strip().lower()
        with self.lock:
            return next((c for c in self.customers.values()
                         if str(c.get("email") or "").lower() == wanted), None)

    def customer_by_phone(self, phone: str) -> dict[str, Any] | None:
        """The customer holding ``phone`` (compared as :func:`plain_phone` spells it)."""
        wanted = plain_phone(phone)
        with self.lock:
            return next((c for c in self.customers.values() if c.get("phone") == wanted), None)

    def create_customer(self, values: Mapping[str, Any]
                        ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """``customerCreate``: the new customer, or ``None`` and the user errors Shopify gives
        (e-mail and phone must be valid and unique — e-mails case-insensitively)."""
        email = str(values.get("email") or "").strip().lower() or None
        phone = plain_phone(str(values.get("phone") or ""))
        errors: list[dict[str, Any]] = []
        with self.lock:
            if email is not None and not _EMAIL.match(email):
                errors.append({"field": ["email"], "message": "Email is invalid"})
            elif email is not None and self.customer_by_email(email) is not None:
                errors.append({"field": ["email"], "message": "Email has already been taken"})
            if phone is not None and not _PHONE.match(phone):
                errors.append({"field": ["phone"], "message": "Phone is invalid"})
            elif phone is not None and self.customer_by_phone(phone) is not None:
                errors.append({"field": ["phone"], "message": "Phone has already been taken"})
            if email is None and phone is None and not values.get("firstName") and \
                    not values.get("lastName"):
                errors.append({"field": None, "message": "A name, phone number, or email "
                                                         "address must be present"})
            if errors:
                return None, errors
            number = _BASE["Customer"] + _CREATED_BLOCK + self._next_customer
            self._next_customer += 1
            node_id, stamp = gid("Customer", number), now()
            addresses: list[dict[str, Any]] = []
            node: dict[str, Any] = {
                "__typename": "Customer", "id": node_id, "legacyResourceId": str(number),
                "email": email, "firstName": values.get("firstName"),
                "lastName": values.get("lastName"), "phone": phone, "note": values.get("note"),
                "tags": sorted({t.strip() for t in values.get("tags") or []}),
                "createdAt": stamp, "updatedAt": stamp,
                "defaultAddress": addresses[0] if addresses else None, "addresses": addresses,
                "emailMarketingConsent": {"marketingState": "NOT_SUBSCRIBED"},
                "_metafields": {}}
            self.customers[node_id] = node
        return node, []

    def add_address(self, customer_id: str, values: Mapping[str, Any], default: bool
                    ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """``customerAddressCreate``: the customer with the address added (the default one
        when asked, or when it is the first), or ``None`` and the user errors."""
        with self.lock:
            node = self.customers.get(customer_id)
            if node is None:
                return None, [{"field": ["customerId"], "message": "Customer does not exist"}]
            address = {key: values.get(key) for key in (
                "firstName", "lastName", "company", "address1", "address2", "zip", "city",
                "phone")} | {"countryCodeV2": values.get("countryCode")}
            node["addresses"].append(address)
            if default or node["defaultAddress"] is None:
                node["defaultAddress"] = address
            node["updatedAt"] = now()
        return node, []

    def new_gift_card_id(self) -> str:
        with self.lock:
            number = _BASE["GiftCard"] + self._next_gift_card
            self._next_gift_card += 1
            return gid("GiftCard", number)

    def new_discount_id(self) -> str:
        with self.lock:
            number = _BASE["DiscountCodeNode"] + self._next_discount
            self._next_discount += 1
            return gid("DiscountCodeNode", number)
