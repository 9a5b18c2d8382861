"""Shopify shapes → the contract's models, and attribute values ↔ typed metafields.

Records carry Shopify's numeric id (``legacyResourceId``) as their external id: it is what the
admin shows, what webhook bodies carry as ``id``, and ``gid://shopify/<Type>/<id>`` rebuilds the
GraphQL id. Customer attributes are the metafields of the connection's namespace.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from shoploop.hooks import Address, AttributeValue, Customer, LineItem, Order, Product

_CONSENT = {"SUBSCRIBED": True, "UNSUBSCRIBED": False}
_FINANCIAL = {"PAID": "paid", "PENDING": "pending", "AUTHORIZED": "pending",
              "PARTIALLY_PAID": "pending", "REFUNDED": "refunded",
              "PARTIALLY_REFUNDED": "partially_refunded", "VOIDED": "cancelled",
              "EXPIRED": "cancelled"}


def to_gid(kind: str, external_id: str) -> str:
    """``"123"`` → ``gid://shopify/Customer/123``; a gid passes through unchanged."""
    return external_id if external_id.startswith("gid://") else \
        f"gid://shopify/{kind}/{external_id}"


def from_gid(value: str) -> str:
    return value.rsplit("/", 1)[-1]


def _numeric_id(node: dict[str, Any]) -> str:
    """``legacyResourceId``, or the number of the gid when a document did not select it."""
    return str(node.get("legacyResourceId") or from_gid(str(node["id"])))


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


# -- attribute values as metafields ------------------------------------------------------------

def encode_value(value: AttributeValue) -> tuple[str, str] | None:
    """A metafield ``(type, value)`` for an attribute value; ``None`` means "no metafield":
    Shopify refuses blank metafield values, so None, "" and [] delete the metafield."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):  # before int: bool is an int in Python
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "number_integer", str(value)
    if isinstance(value, float):
        return "number_decimal", repr(value)
    if isinstance(value, list):
        return "list.single_line_text_field", json.dumps([str(v) for v in value],
                                                         ensure_ascii=False)
    return ("multi_line_text_field" if "\n" in value else "single_line_text_field"), value


def decode_value(type_: str, value: str) -> AttributeValue:
    try:
        if type_ == "boolean":
            return value == "true"
        if type_ == "number_integer":
            return int(value)
        if type_ == "number_decimal":
            return float(value)
        if type_.startswith("list."):
            items = json.loads(value)
            return [str(i) for i in items] if isinstance(items, list) else value
    except ValueError:
        return value
    return value


def _attributes(node: dict[str, Any]) -> dict[str, AttributeValue]:
    metafields = (node.get("metafields") or {}).get("nodes") or []
    return {m["key"]: decode_value(m["type"], m["value"]) for m in metafields}


# -- records -----------------------------------------------------------------------------------

def customer(node: dict[str, Any]) -> Customer:
    address = node.get("defaultAddress")
    addresses = [Address(kind="billing", company=address.get("company"),
                         line1=address.get("address1"), line2=address.get("address2"),
                         postal_code=address.get("zip"), city=address.get("city"),
                         country=address.get("countryCodeV2"))] if address else []
    email = node.get("defaultEmailAddress") or {}
    phone = node.get("defaultPhoneNumber") or {}
    consent = email.get("marketingState")
    return Customer(
        id=_numeric_id(node), email=email.get("emailAddress"),
        first_name=node.get("firstName"), last_name=node.get("lastName"),
        phone=phone.get("phoneNumber"),
        company=address.get("company") if address else None,
        accepts_marketing=_CONSENT.get(str(consent)), addresses=addresses,
        tags=list(node.get("tags") or []), attributes=_attributes(node),
        created_at=_time(node.get("createdAt")), updated_at=_time(node.get("updatedAt")))


def product(node: dict[str, Any]) -> Product:
    variants = (node.get("variants") or {}).get("nodes") or []
    variant = variants[0] if variants else {}
    compare = variant.get("compareAtPrice")
    return Product(
        id=node["legacyResourceId"], sku=variant.get("sku"), name=node["title"],
        price=Decimal(str(variant.get("price") or "0")),
        compare_at_price=Decimal(str(compare)) if compare not in (None, "") else None,
        stock=node.get("totalInventory") if node.get("tracksInventory") else None,
        status=str(node.get("status", "ACTIVE")).lower(),
        category=node.get("productType") or None, tags=list(node.get("tags") or []),
        vendor=node.get("vendor") or None, attributes=_attributes(node),
        updated_at=_time(node.get("updatedAt")))


def line_item(node: dict[str, Any]) -> LineItem:
    money = (node.get("originalUnitPriceSet") or {}).get("shopMoney") or {}
    product_ref = node.get("product")
    return LineItem(product_id=product_ref["legacyResourceId"] if product_ref else None,
                    sku=node.get("sku"), name=node.get("name") or "",
                    quantity=int(node.get("quantity") or 0),
                    unit_price=Decimal(str(money.get("amount") or "0")))


def order(node: dict[str, Any], lines: list[dict[str, Any]]) -> Order:
    refunded = ((node.get("totalRefundedSet") or {}).get("shopMoney") or {}).get("amount")
    status = _FINANCIAL.get(str(node.get("displayFinancialStatus")), "pending")
    if node.get("cancelledAt"):
        status = "cancelled"
    elif status == "paid" and node.get("displayFulfillmentStatus") == "FULFILLED":
        status = "fulfilled"
    buyer = node.get("customer")
    return Order(
        id=node["legacyResourceId"], number=str(node.get("name") or "").lstrip("#") or None,
        customer_id=buyer["legacyResourceId"] if buyer else None, email=node.get("email"),
        placed_at=_time(node.get("processedAt")) or _time(node.get("updatedAt")),
        updated_at=_time(node.get("updatedAt")), currency=node.get("currencyCode") or "EUR",
        status=status,
        channel=node.get("sourceName") or "web", lines=[line_item(n) for n in lines],
        discount_codes=list(node.get("discountCodes") or []),
        refunded_total=Decimal(str(refunded or "0")),
        refunded_at=max((t for r in node.get("refunds") or ()
                         if (t := _time(r.get("createdAt")))), default=None),
        attributes={a["key"]: a.get("value") for a in node.get("customAttributes") or []})
