"""What the dashboard's panels read from the store (blocking: the routes run these in the
thread pool): storefront events per placement, the referral funnel and ledger, the webhook
deliveries. Only ``shoploop.store``'s public functions; every value is plain data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shoploop.store import PlacementFigures, Store

DELIVERIES_SHOWN = 20
"""The newest deliveries with an error on the webhooks page."""


def storefront_figures(store: Store) -> list[PlacementFigures]:
    """Impressions, clicks and add-to-carts per (connection, placement), with their rates."""
    from shoploop.store import web_event_figures

    with store.session() as session:
        return web_event_figures(session)


def referral_funnel_rows(store: Store) -> list[dict[str, Any]]:
    """The funnel's stages with counts and the rate of the stage before, exactly as
    ``shoploop referral funnel`` prints them (the same function)."""
    from shoploop.referral import funnel_rates
    from shoploop.store import referral_funnel

    with store.session() as session:
        return funnel_rates(referral_funnel(session))


def referral_ledger(store: Store, what: str) -> dict[str, list[dict[str, Any]]] | None:
    """A code's (or a customer's) ledger as ``shoploop referral show`` reads it: surveys,
    codes, referrals (with their rejection reasons), rewards, each with every transition.
    None when the ledger knows neither."""
    from shoploop.referral import ledger_of

    with store.session() as session:
        found = ledger_of(session, what)
    if not found["codes"] and not found["surveys"]:
        return None
    return found


@dataclass(frozen=True)
class DeliveryRow:
    id: int
    connection: str
    topic: str
    status: str
    attempts: int
    error: str
    received_at: datetime


def webhook_figures(store: Store, *,
                    limit: int = DELIVERIES_SHOWN) -> tuple[dict[str, int], list[DeliveryRow]]:
    """Deliveries per status (every status, 0 when none) and the newest ``limit`` deliveries
    that carry an error (failed, or pending again after a failed attempt)."""
    from shoploop.store import (
        DELIVERY_FAILED,
        DELIVERY_PENDING,
        DELIVERY_PROCESSING,
        delivery_counts,
        recent_deliveries,
    )

    with store.session() as session:
        counts = delivery_counts(session)
        # An error sits on a failed delivery, or on a pending or claimed one that failed an
        # attempt and waits for the next: the newest of each status, merged newest first.
        found = [d for status in (DELIVERY_FAILED, DELIVERY_PENDING, DELIVERY_PROCESSING)
                 for d in recent_deliveries(session, status=status, limit=limit * 5)
                 if d.error]
        errors = [DeliveryRow(id=d.id, connection=d.connection, topic=d.topic,
                              status=d.status, attempts=d.attempts, error=d.error,
                              received_at=d.received_at)
                  for d in sorted(found, key=lambda d: -d.id)[:limit]]
    return counts, errors
