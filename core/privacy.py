"""Privacy requests from the platforms, applied to the store.

``handle_privacy_event`` takes a verified, parsed webhook :class:`~shoploop.hooks.Event` and
applies it; the webhook processing (``shoploop.jobs``) routes every delivery here first. The
three requests are Shopify's mandatory compliance topics
(https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance):

- ``customers/redact`` → :func:`shoploop.store.erase_customer`;
- ``shop/redact`` (48 hours after a store uninstalled the app) → every record of that
  connection, :func:`shoploop.store.erase_connection`;
- ``customers/data_request`` → what the store holds of that customer
  (:func:`shoploop.store.customer_data`) written as one JSON file into ``[privacy]
  export_dir``, for the operator to send to the store owner — the platform leaves answering to
  the app, and shoploop cannot reach the owner itself.

``shoploop privacy erase|export`` do the same by hand. What is deleted, kept and exported:
docs/privacy.md.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shoploop.hooks import Event, WebhookPayloadError

if TYPE_CHECKING:
    from shoploop.store import ConnectionErasureResult, ErasureResult, Store

log = logging.getLogger("shoploop.privacy")

CUSTOMER_REDACT = "privacy.customer_redact"
SHOP_REDACT = "privacy.shop_redact"
CUSTOMER_DATA_REQUEST = "privacy.customer_data_request"


def _plain_id(value: Any) -> str | None:
    """A platform id as the mirror stores it: ints (Shopify's JSON ids) become strings."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def redacted_customer_id(payload: Mapping[str, Any]) -> str | None:
    """The customer id of a redact payload: ``customer.id`` (Shopify), else ``customer_id``."""
    customer = payload.get("customer")
    if isinstance(customer, Mapping):
        found = _plain_id(customer.get("id"))
        if found is not None:
            return found
    return _plain_id(payload.get("customer_id"))


def _email(payload: Mapping[str, Any]) -> str | None:
    """The redact payload's ``customer.email`` (Shopify sends it), if any."""
    customer = payload.get("customer")
    email = customer.get("email") if isinstance(customer, Mapping) else None
    return email if isinstance(email, str) and email.strip() else None


def _order_ids(payload: Mapping[str, Any], key: str = "orders_to_redact") -> list[str]:
    orders = payload.get(key)
    if not isinstance(orders, list):
        return []
    return [order for order in map(_plain_id, orders) if order is not None]


def handle_privacy_event(store: Store, event: Event, *, export_dir: Path | None = None,
                         keep_deliveries: Iterable[int] = ()
                         ) -> ErasureResult | ConnectionErasureResult | Path | None:
    """Apply a privacy event to the store; None for events this does not handle.

    ``privacy.customer_redact`` (from any connector; the connection is ``event.connection``)
    erases that customer and the orders the payload lists (Shopify's ``orders_to_redact``)
    from the store with :func:`shoploop.store.erase_customer`, in one transaction, and returns
    what was deleted. ``privacy.shop_redact`` erases the connection's data
    (:func:`shoploop.store.erase_connection`; ``keep_deliveries``: the webhook deliveries to
    leave, the one being processed). ``privacy.customer_data_request`` writes the customer's
    data into ``export_dir`` and returns the file's path. A repeated delivery is harmless:
    erasures delete nothing more, a data request's file is written again.

    Raises :class:`~shoploop.hooks.WebhookPayloadError` when a customer event names no
    customer, ``ValueError`` when the event carries no connection or a data request comes
    without an ``export_dir``.
    """
    if event.type not in (CUSTOMER_REDACT, SHOP_REDACT, CUSTOMER_DATA_REQUEST):
        return None
    if not event.connection:
        raise ValueError(f"{event.type} event names no connection")
    if event.type == SHOP_REDACT:
        from shoploop.store import erase_connection

        with store.session() as session:
            erased = erase_connection(session, event.connection, keep_deliveries=keep_deliveries)
        log.warning("shop/redact: erased the data of connection %s (%s rows)",
                    event.connection, erased.total)
        return erased
    customer_id = redacted_customer_id(event.payload)
    if customer_id is None:
        raise WebhookPayloadError(
            f"{event.topic or event.type}: payload carries no customer id "
            f"(expected customer.id or customer_id)")
    if event.type == CUSTOMER_DATA_REQUEST:
        if export_dir is None:
            raise ValueError("a customers/data_request needs an export directory")
        return export_customer_data(store, event.connection, customer_id, export_dir,
                                    order_ids=_order_ids(event.payload, "orders_requested"),
                                    request_id=_plain_id(_request_id(event.payload)))
    from shoploop.store import erase_customer

    with store.session() as session:
        return erase_customer(session, event.connection, customer_id,
                              reason="customer_redact", order_ids=_order_ids(event.payload),
                              email=_email(event.payload))


def _request_id(payload: Mapping[str, Any]) -> Any:
    request = payload.get("data_request")
    return request.get("id") if isinstance(request, Mapping) else None


_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def export_customer_data(store: Store, connection: str, customer_id: str, export_dir: Path, *,
                         order_ids: Iterable[str] = (), request_id: str | None = None) -> Path:
    """Write what the store holds of one customer (:func:`shoploop.store.customer_data`) to
    ``export_dir/data-request-<connection>-<request or customer id>.json``, readable by its
    owner only, atomically (a reader never sees half a file); returns the path."""
    from shoploop.store import customer_data

    with store.session() as session:
        document = customer_data(session, connection, customer_id, order_ids=order_ids)
    if request_id is not None:
        document["data_request_id"] = request_id
    export_dir.mkdir(parents=True, exist_ok=True)
    name = _UNSAFE.sub("_", f"{connection}-{request_id or 'customer-' + customer_id}")
    path = export_dir / f"data-request-{name}.json"
    write_private_json(path, document)
    log.warning("customers/data_request for customer %s of %s: the store's data is in %s; "
                "send it to the store owner", customer_id, connection, path)
    return path


def write_private_json(path: Path, document: Mapping[str, Any]) -> None:
    """Write ``document`` to ``path`` readable by its owner only, atomically (through a
    ``.partial`` file renamed into place: a reader never sees half a file)."""
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        json.dump(document, out, ensure_ascii=False, indent=2, sort_keys=True)
        out.write("\n")
    partial.replace(path)
