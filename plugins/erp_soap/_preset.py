"""The ``nav_page`` preset: a complete mapping for NAV / Business Central page web services.

An admin names the published pages (``mapping.customers.page = "CustomerCard"``) and only the
fields that differ; the preset derives NAV's WSDL names from the page (service
``<Page>_Service``, port ``<Page>_Port``, record element ``<Page>``) and fills the rest. The
user's mapping is merged over the preset key by key, so any part can still be overridden.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

_STAMP = "Last_Modified_Date_Time"

NAV_PAGE: dict[str, dict[str, Any]] = {
    "customers": {
        "page": "Customer", "id_field": "No", "modified_field": _STAMP,
        "update_operation": "Update", "update_multiple_operation": "UpdateMultiple",
        "fields": {
            "id": "No", "customer_number": "No", "email": "E_Mail", "phone": "Phone_No",
            "company": "Name", "vat_id": "VAT_Registration_No",
            "address.line1": "Address", "address.line2": "Address_2",
            "address.postal_code": "Post_Code", "address.city": "City",
            "address.country": "Country_Region_Code", "updated_at": _STAMP,
        },
        "attributes": {
            "customer_group": "Customer_Posting_Group", "price_list": "Customer_Price_Group",
            "sales_rep": "Salesperson_Code", "industry": "Industry_Code",
            "lifecycle_stage": "Shoploop_Lifecycle_Stage", "rfm_segment": "Shoploop_RFM_Segment",
            "satisfaction": "Shoploop_Satisfaction", "referral_count": "Shoploop_Referral_Count",
        },
    },
    "orders": {
        "page": "SalesLines", "id_field": "Document_No", "document_field": "Document_No",
        "modified_field": _STAMP,
        "fields": {
            "id": "Document_No", "number": "Document_No", "customer_id": "Sell_to_Customer_No",
            "placed_at": "Order_Date", "currency": "Currency_Code",
            # NAV's document statuses; values already in the contract's terms pass through.
            "status": {"field": "Status", "transform": "map", "options": {"values": {
                "Open": "pending", "Pending Approval": "pending",
                "Pending Prepayment": "pending", "Released": "paid"}}},
            "updated_at": _STAMP, "channel": {"value": "erp"},
        },
        "line_fields": {
            "product_id": "No", "name": "Description", "quantity": "Quantity",
            "unit_price": "Unit_Price",
        },
    },
    "products": {
        "page": "Item", "id_field": "No", "modified_field": _STAMP,
        "fields": {
            "id": "No", "sku": "No", "name": "Description", "price": "Unit_Price",
            "stock": "Inventory", "category": "Item_Category_Code", "vendor": "Vendor_No",
            "updated_at": _STAMP,
            "status": {"field": "Blocked", "transform": "map",
                       "options": {"values": {"True": "archived", "False": "active"}}},
        },
    },
    "installed_base": {
        "page": "ServiceItem", "id_field": "No", "modified_field": _STAMP,
        "fields": {
            "id": "No", "customer_id": "Customer_No", "product_id": "Item_No",
            "serial_number": "Serial_No", "installed_at": "Installation_Date",
            "service_interval_days": "Service_Interval_Days",
            "last_service_at": "Last_Service_Date", "updated_at": _STAMP,
        },
    },
}

NAV_REWARDS: dict[str, dict[str, Any]] = {
    "credit_note": {
        "page": "SalesCreditMemo",
        "fields": {"recipient_customer_id": "Sell_to_Customer_No", "amount": "Amount",
                   "currency": "Currency_Code", "note": "Posting_Description",
                   "date": "Document_Date"},
    },
    "gift_order": {
        "page": "SalesOrder",
        "fields": {"recipient_customer_id": "Sell_to_Customer_No", "product_id": "Item_No",
                   "quantity": "Quantity", "note": "Posting_Description",
                   "date": "Document_Date"},
        "constants": {"Unit_Price": 0},  # free of charge
    },
}


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _from_page(section: dict[str, Any], *, element_key: str) -> dict[str, Any]:
    page = section.get("page")
    if page:
        section.setdefault("service", f"{page}_Service")
        section.setdefault("port", f"{page}_Port")
        section.setdefault(element_key, page)
        if section.get("update_multiple_operation"):
            section.setdefault("update_multiple_element", f"{page}_List")
    return section


def expand_nav_page(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """The preset merged with the user's ``mapping`` (user wins). A stream set to ``false``
    is left out (e.g. an ERP without a service module: ``installed_base = false``)."""
    result: dict[str, Any] = {}
    for stream, preset in NAV_PAGE.items():
        user = mapping.get(stream, {})
        if user is False:
            continue
        result[stream] = _from_page(_merge(preset, user or {}), element_key="update_element")
    rewards_user = mapping.get("rewards", {}) or {}
    result["rewards"] = {kind: _from_page(_merge(preset, rewards_user.get(kind, {}) or {}),
                                          element_key="create_element")
                         for kind, preset in NAV_REWARDS.items()
                         if rewards_user.get(kind, {}) is not False}
    for key, value in mapping.items():
        if key not in result and key not in NAV_PAGE:
            result[key] = value
    return result


def expand_plain(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Without a preset: only ``page`` shorthands are expanded."""
    result = {key: value for key, value in mapping.items()}
    for stream in NAV_PAGE:
        if isinstance(result.get(stream), Mapping):
            result[stream] = _from_page(dict(result[stream]), element_key="update_element")
    if isinstance(result.get("rewards"), Mapping):
        result["rewards"] = {kind: _from_page(dict(section), element_key="create_element")
                             for kind, section in result["rewards"].items()}
    return result
