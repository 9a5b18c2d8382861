"""Privacy requests from the platforms, applied to the store.

``handle_privacy_event`` takes a verified, parsed webhook :class:`~shoploop.hooks.Event` and
applies it. An application that receives webhooks routes every verified one whose type starts
with ``privacy.`` here (shoploop has no web server yet); ``shoploop privacy erase`` does the
same for one customer by hand. What erasure deletes and keeps: docs/privacy.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from shoploop.hooks import Event, WebhookPayloadError

if TYPE_CHECKING:
    from shoploop.store import ErasureResult, Store

CUSTOMER_REDACT = "privacy.customer_redact"


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


def _order_ids(payload: Mapping[str, Any]) -> list[str]:
    orders = payload.get("orders_to_redact")
    if not isinstance(orders, list):
        return []
    return [order for order in map(_plain_id, orders) if order is not None]


def handle_privacy_event(store: Store, event: Event) -> ErasureResult | None:
    """Apply a privacy event to the store; None for events this does not handle.

    ``privacy.customer_redact`` (from any connector; the connection is ``event.connection``)
    erases that customer and the orders the payload lists (Shopify's ``orders_to_redact``)
    from the store with :func:`shoploop.store.erase_customer`, in one transaction, and returns
    what was deleted. A repeated delivery is harmless (it deletes nothing more).

    The web server (a later issue) routes verified webhooks here, after their signature check
    and dedupe; the hook ``on_event`` still sees the event too.

    Raises :class:`~shoploop.hooks.WebhookPayloadError` when a redact event names no customer
    and ``ValueError`` when it carries no connection.
    """
    if event.type != CUSTOMER_REDACT:
        return None
    from shoploop.store import erase_customer

    if not event.connection:
        raise ValueError(f"{event.type} event names no connection")
    customer_id = redacted_customer_id(event.payload)
    if customer_id is None:
        raise WebhookPayloadError(
            f"{event.topic or event.type}: payload carries no customer id "
            f"(expected customer.id or customer_id)")
    with store.session() as session:
        return erase_customer(session, event.connection, customer_id,
                              reason="customer_redact", order_ids=_order_ids(event.payload),
                              email=_email(event.payload))
