"""The key sets of WooCommerce's REST v3 objects as the documentation shows them, with empty
values of the documented JSON types (and WooCommerce's defaults where the property tables name
one) — generated from the documented examples kept in ``tests/fixtures/platforms/woocommerce/``
(https://woocommerce.github.io/woocommerce-rest-api-docs/; sources in its README).

The emulator completes every record it serves with these, so its answers have the documented
shape; ``tests/woocommerce/test_documented_examples.py`` fails when the two drift apart.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

Record = dict[str, Any]

BILLING: Record = {
    "first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
    "state": "", "postcode": "", "country": "", "email": "", "phone": "",
}

SHIPPING: Record = {
    "first_name": "", "last_name": "", "company": "", "address_1": "", "address_2": "", "city": "",
    "state": "", "postcode": "", "country": "",
}

CUSTOMER: Record = {
    "id": 0, "date_created": "", "date_created_gmt": "", "date_modified": "",
    "date_modified_gmt": "", "email": "", "first_name": "", "last_name": "", "role": "",
    "username": "", "billing": dict(BILLING), "shipping": dict(SHIPPING),
    "is_paying_customer": False, "avatar_url": "", "meta_data": [],
}

ORDER: Record = {
    "id": 0, "parent_id": 0, "number": "", "order_key": "", "created_via": "", "version": "",
    "status": "", "currency": "", "date_created": "", "date_created_gmt": "", "date_modified": "",
    "date_modified_gmt": "", "discount_total": "0.00", "discount_tax": "0.00",
    "shipping_total": "0.00", "shipping_tax": "0.00", "cart_tax": "0.00", "total": "",
    "total_tax": "0.00", "prices_include_tax": False, "customer_id": 0, "customer_ip_address": "",
    "customer_user_agent": "", "customer_note": "", "billing": dict(BILLING),
    "shipping": dict(SHIPPING), "payment_method": "", "payment_method_title": "",
    "transaction_id": "", "date_paid": None, "date_paid_gmt": None, "date_completed": None,
    "date_completed_gmt": None, "cart_hash": "", "meta_data": [], "line_items": [],
    "tax_lines": [], "shipping_lines": [], "fee_lines": [], "coupon_lines": [], "refunds": [],
}

PRODUCT: Record = {
    "id": 0, "name": "", "slug": "", "permalink": "", "date_created": "", "date_created_gmt": "",
    "date_modified": "", "date_modified_gmt": "", "type": "simple", "status": "",
    "featured": False, "catalog_visibility": "visible", "description": "", "short_description": "",
    "sku": "", "price": "", "regular_price": "", "sale_price": "", "date_on_sale_from": None,
    "date_on_sale_from_gmt": None, "date_on_sale_to": None, "date_on_sale_to_gmt": None,
    "price_html": "", "on_sale": False, "purchasable": True, "total_sales": 0, "virtual": False,
    "downloadable": False, "downloads": [], "download_limit": -1, "download_expiry": -1,
    "external_url": "", "button_text": "", "tax_status": "taxable", "tax_class": "",
    "manage_stock": False, "stock_quantity": None, "stock_status": "", "backorders": "no",
    "backorders_allowed": False, "backordered": False, "sold_individually": False, "weight": "",
    "dimensions": {"length": "", "width": "", "height": ""}, "shipping_required": True,
    "shipping_taxable": True, "shipping_class": "", "shipping_class_id": 0,
    "reviews_allowed": True, "average_rating": "0.00", "rating_count": 0, "related_ids": [],
    "upsell_ids": [], "cross_sell_ids": [], "parent_id": 0, "purchase_note": "", "categories": [],
    "tags": [], "images": [], "attributes": [], "default_attributes": [], "variations": [],
    "grouped_products": [], "menu_order": 0, "meta_data": [],
}

LINE_ITEM: Record = {
    "id": 0, "name": "", "product_id": 0, "variation_id": 0, "quantity": 0, "tax_class": "",
    "subtotal": "", "subtotal_tax": "", "total": "", "total_tax": "", "taxes": [], "meta_data": [],
    "sku": "", "price": 0,
}


def complete(record: Record, skeleton: Mapping[str, Any]) -> Record:
    """``record`` with every documented key it lacks added (nested objects too), in place."""
    for key, default in skeleton.items():
        if key not in record:
            record[key] = copy.deepcopy(default)
        elif isinstance(default, dict) and isinstance(record[key], dict):
            complete(record[key], default)
    return record
