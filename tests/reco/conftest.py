"""Fixtures for the recommendation tests: a store seeded with a small merchant whose shop and
ERP sell the same products under different ids (the same SKUs), with the sync's identity
bindings between their customers; a plugin host that loads the built-in strategies through
their entry points, as ``shoploop`` does.

Test modules cannot import each other (``--import-mode=importlib``); they share this file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shoploop import load_plugins
from shoploop._plugins import PluginHost
from shoploop.hooks import LineItem, Order, Product
from shoploop.reco import RecoSettings, build_model
from shoploop.reco._build import BuildResult
from shoploop.store import Store, bind_identity, upsert_orders, upsert_products

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

# SKU → (name, price); the shop knows them by numeric ids, the ERP by item number (= SKU).
CATALOGUE = {
    "ESP-PRO-2": ("Espresso machine Pro 2", "899.00"),
    "DESC-500": ("Descaler 500 ml", "12.90"),
    "MILK-JUG": ("Milk jug 600 ml", "24.90"),
    "GRINDER-S": ("Grinder S", "199.00"),
    "FILTER-10": ("Water filter cartridge (10)", "39.00"),
    "BEANS-1KG": ("Espresso beans 1 kg", "18.50"),
}
SHOP_IDS = {sku: str(100 + n) for n, sku in enumerate(CATALOGUE)}


def shop_products() -> list[Product]:
    return [Product(id=SHOP_IDS[sku], sku=sku, name=name, price=Decimal(price))
            for sku, (name, price) in CATALOGUE.items()]


def erp_products(skus: Iterable[str] = CATALOGUE) -> list[Product]:
    return [Product(id=sku, sku=sku, name=CATALOGUE[sku][0].upper(),
                    price=Decimal(CATALOGUE[sku][1])) for sku in skus]


@dataclass
class Orders:
    """Builds orders of one connection: ``add(customer, day_offset, products)``."""

    connection: str
    ids: Mapping[str, str]
    orders: list[Order] = field(default_factory=list)

    def add(self, customer: str | None, days_ago: float, skus: Sequence[str], *,
            status: str = "paid", by_sku_only: bool = False) -> Order:
        order = Order(
            id=f"{self.connection}-{len(self.orders) + 1}", customer_id=customer,
            placed_at=NOW - timedelta(days=days_ago), status=status,  # type: ignore[arg-type]
            lines=[LineItem(product_id=None if by_sku_only else self.ids[sku], sku=sku,
                            name=sku, quantity=1, unit_price=Decimal(CATALOGUE[sku][1]))
                   for sku in skus])
        self.orders.append(order)
        return order


def seed(store: Store, *, products: Mapping[str, Sequence[Product]],
         orders: Sequence[Orders] = (), bindings: Sequence[tuple[str, str, str]] = ()) -> None:
    with store.session() as session:
        for connection, items in products.items():
            upsert_products(session, connection, items)
        for batch in orders:
            upsert_orders(session, batch.connection, batch.orders)
        for connection, external_id, internal_id in bindings:
            bind_identity(session, connection, "customer", external_id, internal_id)


@pytest.fixture
def host() -> PluginHost:
    """The built-in strategies, loaded through the ``shoploop`` entry points (strict)."""
    host = load_plugins(strict=True,
                        environ={"SHOPLOOP_LOAD_PLUGINS": "bought_together,buy_again"})
    assert sorted(host.plugin_names()) == ["bought_together", "buy_again"]
    return host


@pytest.fixture
def build(host: PluginHost) -> Callable[..., BuildResult]:
    def run(store: Store, **settings: object) -> BuildResult:
        return build_model(host, store, RecoSettings.model_validate(settings), lambda: NOW)

    return run


def b2b_merchant(store: Store) -> None:
    """A machine dealer: the ERP holds the business customers' orders (phone, EDI), the shop
    a few web orders. K-1001 is the shop's customer 9001 (bound by the sync)."""
    shop = Orders("shop", SHOP_IDS)
    erp = Orders("erp", {sku: sku for sku in SHOP_IDS})
    # K-1001 buys filter cartridges every 30 days (last 28 days ago), beans irregularly.
    for days in (208, 178, 148, 118, 88, 58, 28):
        erp.add("K-1001", days, ["FILTER-10"])
    for days in (200, 90):
        erp.add("K-1001", days, ["BEANS-1KG"])
    # Machines go out with descaler (ERP order history); grinders are bought on their own.
    for n in range(12):
        erp.add(f"K-{2000 + n}", 300 - n, ["ESP-PRO-2", "DESC-500"] +
                (["MILK-JUG"] if n % 3 == 0 else []))
    for n in range(20):
        erp.add(f"K-{3000 + n}", 250 - n, ["GRINDER-S"] if n % 2 else ["BEANS-1KG"])
    shop.add("9001", 400, ["GRINDER-S"])
    shop.add("9002", 10, ["ESP-PRO-2"])
    shop.add(None, 5, ["DESC-500", "BEANS-1KG"])  # a guest
    seed(store, products={"shop": shop_products(), "erp": erp_products()},
             orders=[shop, erp], bindings=[("erp", "K-1001", "person-1"),
                                           ("shop", "9001", "person-1")])


@dataclass(frozen=True)
class Kit:
    """The helpers above, for test modules (they cannot import this file)."""

    now: datetime = NOW
    shop_ids: Mapping[str, str] = field(default_factory=lambda: SHOP_IDS)
    orders: Callable[..., Orders] = Orders
    seed: Callable[..., None] = seed
    shop_products: Callable[[], list[Product]] = shop_products
    erp_products: Callable[..., list[Product]] = erp_products
    b2b_merchant: Callable[[Store], None] = b2b_merchant


@pytest.fixture
def kit() -> Kit:
    return Kit()


@pytest.fixture
def cli(store: Store, host: PluginHost, tmp_path: Path) -> Callable[..., Any]:
    """``cli(*args)``: ``shoploop -c shoploop.toml ARGS`` in process against ``store`` (a
    config with ``[reco] min_support = 3``); a fresh app per command, as each ``shoploop``
    process has its own state."""
    from typer.testing import CliRunner

    from shoploop.cli._app import build_app

    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n\n[reco]\nmin_support = 3\n')
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(build_app(host), ["-c", str(config), *args])

    return run
