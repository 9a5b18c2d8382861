"""Fixtures for the web tests (``served`` / ``served_module``, the app on a real uvicorn
socket, are in tests/conftest.py: the referral pages' tests use them too).

Test modules cannot import each other (``--import-mode=importlib``); they share this file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from shoploop import load_plugins
from shoploop._config import Config, parse_config
from shoploop._plugins import PluginHost
from shoploop.hooks import Event, hookimpl
from shoploop.store import Store


@pytest.fixture
def web_host() -> PluginHost:
    return load_plugins(strict=True)


def web_config(host: PluginHost, data: dict[str, Any], tmp_path: Path) -> Config:
    """A validated config from a TOML-shaped dict, as ``shoploop`` would load it."""
    return parse_config(data, host.connectors, file=str(tmp_path / "shoploop.toml"),
                        base_dir=tmp_path)


@pytest.fixture
def make_config(web_host: PluginHost, tmp_path: Path) -> Callable[[dict[str, Any]], Config]:
    return lambda data: web_config(web_host, data, tmp_path)


__all__ = ["Store"]


# -- the storefront (web-storefront): a small shop with a built recommendation model -----------

STOREFRONT_CATALOGUE = {
    "101": ("Espresso machine Pro 2", "899.00"), "102": ("Descaler 500 ml", "12.90"),
    "103": ("Milk jug 600 ml", "24.90"), "104": ("Grinder S", "199.00"),
    "105": ("Espresso beans 1 kg", "18.50"),
}


def seed_storefront(store: Store, host: PluginHost, *, orders: int = 24) -> int:
    """Products and paid orders of connection "shop" (machines go with descaler, every third
    with a milk jug); builds a model and returns its version. Call again for a newer one."""
    from datetime import UTC, datetime, timedelta
    from decimal import Decimal

    from shoploop.hooks import LineItem, Order, Product
    from shoploop.reco import RecoSettings, build_model
    from shoploop.store import upsert_orders, upsert_products

    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    products = [Product(id=pid, sku=f"SKU-{pid}", name=name, price=Decimal(price))
                for pid, (name, price) in STOREFRONT_CATALOGUE.items()]
    baskets = [["101", "102"] + (["103"] if n % 3 == 0 else []) for n in range(orders)]
    baskets += [["104", "105"] for _ in range(orders // 2)]
    placed = [Order(id=f"o-{n}", customer_id=f"c-{n}", placed_at=now - timedelta(days=n + 1),
                    status="paid",
                    lines=[LineItem(product_id=pid, sku=f"SKU-{pid}", name=pid, quantity=1,
                                    unit_price=Decimal(STOREFRONT_CATALOGUE[pid][1]))
                           for pid in basket])
              for n, basket in enumerate(baskets)]
    with store.session() as session:
        upsert_products(session, "shop", products)
        upsert_orders(session, "shop", placed)
    return build_model(host, store, RecoSettings(), lambda: now).version


@pytest.fixture
def storefront_seed() -> Callable[..., int]:
    """``storefront_seed(store, host, orders=24) -> model version`` (see seed_storefront)."""
    return seed_storefront


WAIT_SECONDS = 60.0
"""Generous bound for conditions on a loaded, shared machine; never a sleep."""


class EventRecorder:
    """A plugin keeping the events ``on_event`` sees, with a condition to wait on."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = threading.Condition()

    @hookimpl
    def on_event(self, context: Any, event: Event) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, count: int) -> list[Event]:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.events) >= count,
                                         timeout=WAIT_SECONDS), \
                f"{len(self.events)} of {count} events processed within {WAIT_SECONDS} s"
            return list(self.events)


@pytest.fixture
def event_recorder() -> EventRecorder:
    """A new :class:`EventRecorder`; register it on the plugin host the app uses."""
    return EventRecorder()
# -- the dashboard panels (web-panels): storefront events, a referral ledger, deliveries ------

PANELS_AT = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _panel_events(placement: str, kind: str, n: int) -> list[dict[str, object]]:
    return [{"event_id": f"{placement}-{kind}-{i}", "type": kind, "connection": "shop",
             "placement": placement, "product_external_id": "101", "occurred_at": PANELS_AT}
            for i in range(n)]


def seed_panels(store: Store) -> str:
    """Storefront events (placements "product_page" and "cart" of "shop"), one pass of the
    referral loop whose referral is rejected (self_referral), three webhook deliveries
    (processed; failed with an error; pending after a failed attempt). Returns the code."""
    from datetime import timedelta
    from decimal import Decimal

    from shoploop.store import (
        add_code,
        add_invitation,
        add_referral,
        add_survey,
        get_survey,
        record_delivery,
        record_web_events,
        settle_delivery,
        transition,
    )

    at = PANELS_AT
    with store.session() as session:
        record_web_events(session, _panel_events("product_page", "impression", 40)
                          + _panel_events("product_page", "click", 10)
                          + _panel_events("product_page", "add_to_cart", 3)
                          + _panel_events("cart", "impression", 8))
        survey_id = add_survey(session, connection="shop", customer_id="C1",
                               email="anna@example.org", order_id="O1", period=7,
                               language="en", due_at=at, now=at, cause="order O1 paid")
        assert survey_id is not None
        transition(session, "survey", survey_id, "sent", cause="mailed", now=at, sent_at=at)
        transition(session, "survey", survey_id, "answered", cause="answer 5", now=at,
                   score=5, answered_at=at)
        survey = get_survey(session, survey_id)
        assert survey is not None
        invitation = add_invitation(session, survey=survey, now=at, cause="satisfied")
        transition(session, "invitation", invitation.id, "sent", cause="mailed", now=at)
        code = add_code(session, code="friend-anna1", invitation=invitation, now=at,
                        cause="invited").code
        referral, _ = add_referral(
            session, code=code, connection="shop", order_id="O9", customer_id="C9",
            email="anna+2@example.org", attributed_by="code", order_total=Decimal("99"),
            currency="EUR", placed_at=at, now=at, cause="order O9 used the code")
        findings = [{"rule": "self_referral", "rejects": True,
                     "reason": "same person as the advocate"}]
        transition(session, "referral", referral.id, "rejected", now=at + timedelta(days=14),
                   cause="self_referral: same person as the advocate",
                   reasons={"findings": findings}, decided_at=at)
        for n in range(3):
            delivery = record_delivery(session, connection="shop", dedupe_key=f"d{n}",
                                       topic="orders/paid", event_type="order", event={"n": n})
            assert delivery is not None
            if n == 0:
                settle_delivery(session, delivery, "processed")
            elif n == 1:
                settle_delivery(session, delivery, "failed",
                                error="ERP answered 503: <service unavailable>")
            else:  # failed an attempt, waits for the next
                settle_delivery(session, delivery, "pending", error="ERP timed out")
    return code


@pytest.fixture(scope="session")
def panels_seed() -> Callable[[Store], str]:
    """``panels_seed(store) -> referral code`` (see seed_panels)."""
    return seed_panels
