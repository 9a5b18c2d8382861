"""Reads: mapping of WooCommerce shapes, hash change detection, watermarks under concurrent
change; webhook delivery by the emulator; `shoploop emulate woocommerce` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from shoploop.emulation import EmulatorServer, Request, Response
from shoploop.hooks import AttributeChange, ConnectorError, Cursor
from shoploop.plugins.woocommerce import WooCommerceConnector, parse_webhook
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

CUSTOMERS = [{"id": f"C{i}", "email": f"c{i}@example.com", "first_name": "Łukasz",
              "company": "Müller, Schmidt & Co.", "kind": "b2b", "tags": ["vip"],
              "addresses": [{"kind": "billing", "line1": "Hauptstraße 1", "city": "Wien",
                             "country": "AT"}], "attributes": {"industry": "food"}}
             for i in range(12)]
PRODUCTS = [{"id": f"P{i}", "name": f"Grinder {i}", "price": "99.50",
             "compare_at_price": "120.00" if i == 0 else None, "stock": 4, "status": "active",
             "category": "machines", "tags": ["premium"]} for i in range(3)]
ORDERS = [
    {"id": "O1", "customer_id": "C0", "email": "c0@example.com",
     "placed_at": "2026-01-02T10:00:00Z",
     "updated_at": "2026-01-03T10:00:00Z", "status": "paid", "refunded_total": "10.00",
     "lines": [{"product_id": "P0", "sku": "G0", "name": "Grinder 0", "quantity": 3,
                "unit_price": "99.50"}], "discount_codes": ["WELCOME10"]},
    {"id": "O2", "customer_id": None, "email": "guest@example.org",
     "placed_at": "2026-01-04T10:00:00Z", "updated_at": "2026-01-04T11:00:00Z",
     "status": "refunded", "channel": "phone", "refunded_total": "50.00",
     "lines": [{"product_id": "P1", "name": "Grinder 1", "quantity": 1, "unit_price": "50.00"}]},
]


def read_all(read: Callable[[Cursor | None], Any], cursor: Cursor | None = None
             ) -> tuple[list[Any], Cursor]:
    items: list[Any] = []
    while True:
        page = read(cursor)
        items += page.items
        cursor = page.cursor
        if not page.has_more:
            return items, cursor


def test_shapes_map_onto_the_models(start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS, products=PRODUCTS, orders=ORDERS)
    connector = woo_connect(emulator)
    customer = read_all(connector.read_customers)[0][0]
    assert (customer.id, customer.kind, customer.company, customer.tags) == (
        "1", "b2b", "Müller, Schmidt & Co.", ["vip"])
    assert customer.addresses[0].city == "Wien" and customer.attributes == {"industry": "food"}
    orders = {o.id: o for o in read_all(connector.read_orders)[0]}
    assert orders["1"].status == "partially_refunded" and orders["1"].customer_id == "1"
    line = orders["1"].lines[0]
    assert (line.unit_price, line.quantity) == (Decimal("99.50"), 3)
    assert orders["1"].discount_codes == ["welcome10"]  # WooCommerce lower-cases coupon codes
    assert orders["2"].customer_id is None and orders["2"].status == "refunded"
    assert orders["2"].channel == "phone" and orders["2"].refunded_total == Decimal("50.00")
    products = {p.id: p for p in read_all(connector.read_products)[0]}
    assert products["1"].compare_at_price == Decimal("120.00") and products["1"].stock == 4
    assert products["2"].compare_at_price is None and products["2"].category == "machines"


def test_customer_digests_detect_our_writes_and_the_cursor_stays_a_position(
        start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator, page_size=5)
    _, checkpoint = read_all(connector.read_customers)
    assert read_all(connector.read_customers, checkpoint)[0] == []
    connector.write_customer_attributes([AttributeChange(customer_id="7", key="x", new="y")])
    del emulator.data.customers[3]
    changed, checkpoint = read_all(connector.read_customers, checkpoint)
    assert [c.id for c in changed] == ["7"]
    # No per-customer state in the cursor: the scan position and the last page's digests.
    assert set(checkpoint.position) == {"page", "compare", "pending"}
    assert checkpoint.position["page"] == 1 and checkpoint.position["compare"] is True
    assert list(checkpoint.position["pending"]) == []  # the last page (11, 12) had no change


def test_order_changed_during_a_scan_is_read_next_time(start_emulator: Start,
                                                       woo_connect: Connect) -> None:
    orders = [{**ORDERS[1], "id": f"O{i}", "updated_at": f"2026-01-{i + 1:02d}T00:00:00Z"}
              for i in range(1, 21)]
    emulator = start_emulator(orders=orders)
    connector = woo_connect(emulator, page_size=5)
    first = connector.read_orders()
    assert first.has_more and [o.id for o in first.items] == ["1", "2", "3", "4", "5"]
    record = emulator.data.orders[2]  # already delivered; changes now, while the scan goes on
    emulator.app._update("orders", {"id": 2, "status": "cancelled"})
    assert record["status"] == "cancelled"
    rest, checkpoint = read_all(connector.read_orders, first.cursor)
    assert [o.id for o in rest] == [str(i) for i in range(6, 21)]
    again, checkpoint = read_all(connector.read_orders, checkpoint)
    assert [(o.id, o.status) for o in again] == [("2", "cancelled")]
    assert read_all(connector.read_orders, checkpoint)[0] == []


def test_foreign_cursor_is_refused(start_emulator: Start, woo_connect: Connect) -> None:
    connector = woo_connect(start_emulator(customers=CUSTOMERS))
    with pytest.raises(ConnectorError, match="cursor of stream 'orders'"):
        connector.read_customers(Cursor(stream="orders"))
    with pytest.raises(ConnectorError, match="not a woocommerce"):
        connector.read_orders(Cursor(stream="orders", position={"page": "x"}))


def test_count_records_is_the_x_wp_total_of_the_reads_filter(start_emulator: Start,
                                                             woo_connect: Connect) -> None:
    orders = [{**ORDERS[1], "id": f"O{i}", "updated_at": f"2026-01-{i + 1:02d}T00:00:00Z"}
              for i in range(1, 8)]
    emulator = start_emulator(customers=CUSTOMERS, products=PRODUCTS, orders=orders)
    connector = woo_connect(emulator, page_size=5)
    assert [connector.count_records(s) for s in ("customers", "orders", "products")] == \
        [12, 7, 3]
    first = connector.read_customers()
    assert connector.count_records("customers", first.cursor) is None  # mid-scan
    _, customers_done = read_all(connector.read_customers, first.cursor)
    assert connector.count_records("customers", customers_done) is None  # only changes come
    first_orders = connector.read_orders()
    assert connector.count_records("orders", first_orders.cursor) is None
    delivered, checkpoint = read_all(connector.read_orders, first_orders.cursor)
    assert len(first_orders.items) + len(delivered) == 7
    emulator.app._update("orders", {"id": 3, "status": "cancelled"})
    # From the checkpoint: the records modified since its watermark (less a margin).
    counted = connector.count_records("orders", checkpoint)
    changed, _ = read_all(connector.read_orders, checkpoint)
    assert counted is not None and 1 == len(changed) <= counted < 7
    assert connector.count_records("installed_base") is None


class Receiver:
    """A real HTTP server receiving webhooks; answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Request] = []
        self.lock = threading.Lock()
        self.server = EmulatorServer(self.answer).start()

    def answer(self, request: Request) -> Response:
        with self.lock:
            self.received.append(request)
        return Response.json({}, self.status)


def test_webhook_delivery_signature_ping_and_disable(start_emulator: Start,
                                                     woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    receiver = Receiver()
    try:
        created = connector.client.post("webhooks", {
            "topic": "customer.updated", "delivery_url": receiver.server.url + "/hook",
            "secret": emulator.webhook_secret}, operation="test").data
        connector.write_customer_attributes([AttributeChange(customer_id="2", key="a", new="b")])
        emulator.webhooks.drain()
        ping, update = receiver.received
        ping_event = connector.parse_webhook(ping.headers, ping.body)
        assert ping.headers["content-type"] == "application/x-www-form-urlencoded"
        assert ping_event.payload == {"webhook_id": created["id"]}
        event = connector.parse_webhook(update.headers, update.body)
        assert (event.type, event.payload["id"]) == ("customer.updated", 2)
        # The receiver goes down: no retries, and WC_Webhook::failed_delivery disables the
        # webhook when a failure finds failure_count > 5 already: on the 7th in a row.
        receiver.status = 500
        for n in range(9):
            connector.write_customer_attributes([AttributeChange(customer_id="2", key="a",
                                                                 new=f"v{n}")])
        emulator.webhooks.drain()
        assert len(receiver.received) == 2 + 7  # nothing is retried, nothing after disabling
        assert emulator.webhooks.hooks[created["id"]]["status"] == "disabled"
        assert emulator.stats.get("webhook_failures") == 7
    finally:
        receiver.server.stop()
    assert parse_webhook(update.headers, update.body, secret=emulator.webhook_secret).payload


def test_shoploop_emulate_woocommerce_and_import(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPLOOP_")}
    block = tmp_path / "woo.toml"
    proc = subprocess.Popen(
        [sys.executable, "-m", "shoploop", "emulate", "woocommerce", "--customers", "120",
         "--seed", "3", "--config-out", str(block), "--connection", "woo"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # printed once the server is up
        assert " at http://127.0.0.1:" in first
        for line in (tmp_path / "woo.toml.env").read_text().splitlines():
            key, _, value = line.partition("=")
            env[key] = value
        (tmp_path / "shoploop.toml").write_text(block.read_text(), encoding="utf-8")

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run([sys.executable, "-m", "shoploop", *args], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=120,
                                  check=False)

        assert cli("db", "upgrade").returncode == 0
        done = cli("import", "customers", "--from", "woo", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["connections"][0]["inserted"] == 120  # one document
        # Piped: progress lines on stderr, with the total the connector counted.
        assert "woo customers: 0/120 (0 %)\n" in done.stderr
        assert "woo customers: 120/120 (100 %) · done in 0:00:0" in done.stderr
        again = cli("import", "customers", "--from", "woo", "--json")
        assert again.returncode == 0 and '"read": 0' in again.stdout
        url = first.split(" at ")[1].split()[0]
        stats = json.loads(subprocess.run(
            [sys.executable, "-c", f"import urllib.request;print(urllib.request.urlopen("
                                   f"'{url}/_emulator/stats').read().decode())"],
            capture_output=True, text=True, timeout=30, check=True).stdout)
        # two pages per import, and the first (full) import's count (per_page=1)
        assert stats["requests"] == 2 * 2 + 1 and stats["connections"] <= 4
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_modified_after_margin_reads_back_and_filters_exactly(start_emulator: Start,
                                                              woo_connect: Connect) -> None:
    """A wide margin (a store that ignores dates_are_gmt) asks for more; the cursor still
    delivers only what changed."""
    orders = [{**ORDERS[1], "id": f"O{i}", "updated_at": f"2026-01-01T{i:02d}:00:00Z"}
              for i in range(1, 10)]
    emulator = start_emulator(orders=orders)
    connector = woo_connect(emulator, page_size=4, modified_after_margin=6 * 3600)
    _, checkpoint = read_all(connector.read_orders)
    assert checkpoint.position["since"] == "2026-01-01T09:00:00"
    assert read_all(connector.read_orders, checkpoint)[0] == []
    emulator.app._update("orders", {"id": 5, "status": "cancelled"})
    assert [o.id for o in read_all(connector.read_orders, checkpoint)[0]] == ["5"]
