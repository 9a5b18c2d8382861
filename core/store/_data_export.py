"""What the store holds of one customer: the answer to a data subject's access request.

Shopify's mandatory ``customers/data_request`` asks the app to give the store owner the data it
holds of a customer (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance);
``shoploop privacy export`` answers the same request by hand. The document lists, for that
customer *of that connection*: the mirrored customer record, its orders with their lines, its
installed base, the internal id it is bound to, what the sync last wrote to it and the sync's
audit rows, and the referral-ledger rows that name it. JSON-ready (dates as ISO 8601).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from ._dialect import one_of
from ._erasure import CUSTOMER
from ._schema import table

FORMAT = "shoploop.customer-data/1"


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _rows(session: Session, rows: Table, *where: Any,
          drop: Sequence[str] = ()) -> list[dict[str, Any]]:
    found = session.execute(select(rows).where(*where).order_by(*rows.primary_key.columns))
    return [{key: _plain(value) for key, value in row._mapping.items() if key not in drop}
            for row in found]


def customer_data(session: Session, connection: str, external_id: str, *,
                  order_ids: Iterable[str] = ()) -> dict[str, Any]:
    """Everything the store holds of customer ``external_id`` of ``connection`` (see the
    module docs); empty lists where it holds nothing (an erased or unknown customer).
    ``order_ids``: further orders of that connection the request names (Shopify's
    ``orders_requested``), besides those whose customer is this one."""
    external_id = str(external_id)
    customers, orders, lines = table("customers"), table("orders"), table("order_lines")
    bookkeeping = ("id", "content_hash")
    whose = orders.c.customer_external_id == external_id
    requested = [str(order_id) for order_id in order_ids]
    if requested:
        whose = whose | one_of(session, orders.c.external_id, requested)
    orders_found = _rows(session, orders, orders.c.connection == connection, whose,
                         drop=("content_hash",))
    order_keys = [order.pop("id") for order in orders_found]
    order_lines = _rows(session, lines, one_of(session, lines.c.order_id, order_keys)) \
        if order_keys else []
    for order, key in zip(orders_found, order_keys, strict=True):
        order["lines"] = [{k: v for k, v in line.items() if k != "order_id"}
                          for line in order_lines if line["order_id"] == key]
    bindings = table("identity_bindings")
    internal = session.scalar(select(bindings.c.internal_id).where(
        bindings.c.connection == connection, bindings.c.entity_type == CUSTOMER,
        bindings.c.external_id == external_id))
    installed, state, changes = (table("installed_base"), table("sync_target_state"),
                                 table("sync_changes"))
    referral: dict[str, list[dict[str, Any]]] = {}
    for name in ("referral_surveys", "referral_invitations", "referral_codes", "referrals"):
        rows = table(name)
        referral[name] = _rows(session, rows, rows.c.connection == connection,
                               rows.c.customer_external_id == external_id)
    return {
        "format": FORMAT, "connection": connection, "customer_id": external_id,
        "internal_id": internal,
        "customer": _rows(session, customers, customers.c.connection == connection,
                          customers.c.external_id == external_id, drop=bookkeeping),
        "orders": orders_found,
        "installed_base": _rows(session, installed, installed.c.connection == connection,
                                installed.c.customer_external_id == external_id,
                                drop=bookkeeping),
        "sync_target_state": _rows(session, state, state.c.connection == connection,
                                   state.c.external_id == external_id),
        "sync_changes": _rows(session, changes, changes.c.connection == connection,
                              changes.c.customer_external_id == external_id),
        "referral": referral,
    }
