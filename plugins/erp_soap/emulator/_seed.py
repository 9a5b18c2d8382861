"""Domain records (models or their JSON-shaped dicts) → NAV page rows.

The emulator is seeded from the demo data generator (``shoploop emulate erp``) or from a
conformance dataset (tests); both speak the models' JSON shape, so one converter serves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from ._pages import Row

Record = Mapping[str, Any] | BaseModel
_EPOCH = "2024-01-01T00:00:00+00:00"

CUSTOMER_ATTRIBUTE_FIELDS = {
    "customer_group": "Customer_Posting_Group",
    "price_list": "Customer_Price_Group",
    "sales_rep": "Salesperson_Code",
    "industry": "Industry_Code",
    "lifecycle_stage": "Shoploop_Lifecycle_Stage",
    "rfm_segment": "Shoploop_RFM_Segment",
    "satisfaction": "Shoploop_Satisfaction",
    "referral_count": "Shoploop_Referral_Count",
}
"""The attributes the emulator's Customer page holds (the last four as a page extension)."""


def _dict(record: Record) -> Mapping[str, Any]:
    return record.model_dump(mode="json") if isinstance(record, BaseModel) else record


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def _clean(row: dict[str, str | None]) -> Row:
    return {k: v for k, v in row.items() if v is not None}


def customer_row(record: Record) -> Row:
    c = _dict(record)
    person = " ".join(p for p in (c.get("first_name"), c.get("last_name")) if p) or None
    address: Mapping[str, Any] = next(iter(c.get("addresses") or []), {})
    row: dict[str, str | None] = {
        "No": c["id"], "Name": c.get("company") or person, "Contact": person,
        "E_Mail": c.get("email"), "Phone_No": c.get("phone"),
        "Address": address.get("line1"), "Address_2": address.get("line2"),
        "Post_Code": address.get("postal_code"), "City": address.get("city"),
        "Country_Region_Code": address.get("country"), "VAT_Registration_No": c.get("vat_id"),
        "Last_Modified_Date_Time": c.get("updated_at") or c.get("created_at") or _EPOCH,
    }
    attributes = c.get("attributes") or {}
    for key, field in CUSTOMER_ATTRIBUTE_FIELDS.items():
        row[field] = _text(attributes.get(key))
    return _clean(row)


def sales_line_rows(record: Record) -> list[Row]:
    o = _dict(record)
    stamp = o.get("updated_at") or o.get("placed_at") or _EPOCH
    return [_clean({
        "Document_Type": "Order", "Document_No": o["id"], "Line_No": str((n + 1) * 10000),
        "Sell_to_Customer_No": o.get("customer_id") or "", "Order_Date": o.get("placed_at"),
        "Status": o.get("status"), "Currency_Code": o.get("currency"),
        "Type": "Item" if line.get("product_id") else "G/L Account",
        "No": line.get("product_id") or "", "Description": line.get("name"),
        "Quantity": _text(line.get("quantity")), "Unit_Price": _text(line.get("unit_price")),
        "Last_Modified_Date_Time": stamp,
    }) for n, line in enumerate(o.get("lines") or [])]


def item_row(record: Record) -> Row:
    p = _dict(record)
    return _clean({
        "No": p["id"], "Description": p.get("name"), "Unit_Price": _text(p.get("price")),
        "Inventory": _text(p.get("stock")), "Item_Category_Code": p.get("category"),
        "Vendor_No": p.get("vendor"), "Blocked": _text(p.get("status") == "archived"),
        "Base_Unit_of_Measure": "PCS", "Last_Modified_Date_Time": p.get("updated_at") or _EPOCH,
    })


def service_item_row(record: Record) -> Row:
    e = _dict(record)
    return _clean({
        "No": e["id"], "Customer_No": e.get("customer_id"), "Item_No": e.get("product_id"),
        "Serial_No": e.get("serial_number"), "Installation_Date": e.get("installed_at"),
        "Service_Interval_Days": _text(e.get("service_interval_days")),
        "Last_Service_Date": e.get("last_service_at"),
        "Last_Modified_Date_Time": e.get("updated_at") or _EPOCH,
    })


def rows_for(page: str, records: Iterable[Record]) -> list[Row]:
    """The rows of ``page`` for domain records of the matching kind."""
    if page == "SalesLines":
        return [row for record in records for row in sales_line_rows(record)]
    convert = {"Customer": customer_row, "Item": item_row, "ServiceItem": service_item_row}
    return [convert[page](record) for record in records]
