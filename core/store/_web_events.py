"""Storefront events (``web_events``): record what the widget reports, read figures per
placement for the dashboard."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ._dialect import upsert_insert
from ._schema import WebEventRecord, table
from ._types import utcnow

WEB_EVENT_TYPES = ("impression", "click", "add_to_cart")


@dataclass(frozen=True)
class PlacementFigures:
    """What one placement of one connection did: counts per event type and the rates the
    dashboard shows (None before the first impression)."""

    connection: str
    placement: str
    impressions: int
    clicks: int
    add_to_carts: int

    @property
    def click_rate(self) -> float | None:
        """Clicks per impression."""
        return self.clicks / self.impressions if self.impressions else None

    @property
    def add_to_cart_rate(self) -> float | None:
        """Add-to-carts per impression."""
        return self.add_to_carts / self.impressions if self.impressions else None


def record_web_events(session: Session, events: Iterable[Mapping[str, Any]]) -> int:
    """Store events (keys: ``event_id``, ``type``, ``connection``, ``placement``,
    ``product_external_id``, optional ``model_version``, ``position``, ``occurred_at``, and
    the arm's ``experiment``, ``variant``, ``unit_key``);
    an ``event_id`` already stored is skipped. Returns how many were new."""
    now = utcnow()
    rows = [{"model_version": None, "position": None, "occurred_at": now, "experiment": None,
             "variant": None, "unit_key": None, **event} for event in events]
    if not rows:
        return 0
    web_events = table("web_events")
    # RETURNING lists the rows inserted, not those skipped by ON CONFLICT DO NOTHING.
    inserted = session.execute(
        upsert_insert(session, web_events).on_conflict_do_nothing(index_elements=["event_id"])
        .returning(web_events.c.event_id), rows)
    return len(inserted.all())


def web_event_figures(session: Session, *, connection: str | None = None,
                      since: datetime | None = None) -> list[PlacementFigures]:
    """Per (connection, placement): impressions, clicks and add-to-carts (since ``since``,
    of ``connection`` if given), ordered by connection and placement."""
    query = select(WebEventRecord.connection, WebEventRecord.placement, WebEventRecord.type,
                   func.count()).group_by(WebEventRecord.connection, WebEventRecord.placement,
                                          WebEventRecord.type)
    if connection is not None:
        query = query.where(WebEventRecord.connection == connection)
    if since is not None:
        query = query.where(WebEventRecord.occurred_at >= since)
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for conn, placement, kind, count in session.execute(query):
        counts.setdefault((conn, placement), {})[kind] = int(count)
    return [PlacementFigures(conn, placement, found.get("impression", 0),
                             found.get("click", 0), found.get("add_to_cart", 0))
            for (conn, placement), found in sorted(counts.items())]
