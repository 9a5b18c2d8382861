"""``shoploop webhooks register|list|process`` against both emulators and a served app: the
subscriptions are created on the platforms, the platforms deliver to the app, the CLI lists
what arrived."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from shoploop._config import Config
from shoploop._connections import Connections
from shoploop._plugins import PluginHost
from shoploop.cli._app import build_app
from shoploop.hooks import AttributeChange, EmulatorOptions
from shoploop.plugins.shopify.emulator import ShopifyEmulator
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.store import Store, delivery_counts
from shoploop.web import create_app


@pytest.fixture
def emulators() -> Iterator[tuple[ShopifyEmulator, WooCommerceEmulator]]:
    shop = ShopifyEmulator(EmulatorOptions(customers=3))
    woo = WooCommerceEmulator.from_demo(customers=3)
    shop.start()
    woo.start()
    yield shop, woo
    shop.stop()
    woo.stop()


def test_register_list_and_process(
        tmp_path: Path, web_host: PluginHost, monkeypatch: pytest.MonkeyPatch,
        emulators: tuple[ShopifyEmulator, WooCommerceEmulator],
        make_config: Callable[[dict[str, Any]], Config],
        served: Callable[[Any], AbstractContextManager[str]], event_recorder: Any) -> None:
    shop, woo = emulators
    for emulator in (shop, woo):
        for key, value in emulator.environment().items():
            monkeypatch.setenv(key, value)
    blocks = shop.connection_block("shop") + "\n" + woo.connection_block("woo")
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    (tmp_path / "shoploop.toml").write_text(f'[store]\nurl = "{store_url}"\n\n{blocks}')
    monkeypatch.setenv("SHOPLOOP_CONFIG", str(tmp_path / "shoploop.toml"))
    config = make_config({"store": {"url": store_url},
                          "connections": tomllib.loads(blocks)["connections"]})
    recorder = event_recorder
    web_host.register(recorder, name="recorder")
    cli = build_app(web_host)
    runner = CliRunner()

    def run(*args: str) -> dict[str, Any]:
        result = runner.invoke(cli, ["webhooks", *args, "--json"])
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    with Store(store_url) as store:
        store.upgrade()
        app = create_app(web_host, config, store)
        with served(app) as base:
            first = run("register", "--url", base)["subscriptions"]
            assert {(s["connection"], s["created"]) for s in first} == {("shop", True),
                                                                         ("woo", True)}
            assert {s["address"] for s in first} == {f"{base}/webhooks/shop",
                                                      f"{base}/webhooks/woo"}
            assert not any(s["created"] for s in run("register", "--url", base)
                           ["subscriptions"])  # idempotent
            assert len(shop.webhooks.subscriptions) == len(
                [s for s in first if s["connection"] == "shop"])
            pings = [d["status"] for d in woo.webhooks.deliveries if d["topic"] == "ping"]
            assert pings and set(pings) == {200}  # each creation pinged, answered 200

            # A change on each platform: each delivers to the subscription just made.
            with Connections(config, web_host.connectors) as connectors:
                customer = next(iter(shop.data.customers)).rsplit("/", 1)[-1]
                connectors["shop"].write_customer_attributes(
                    [AttributeChange(customer_id=customer, key="tier", new="gold")])
                connectors["woo"].write_customer_attributes(
                    [AttributeChange(customer_id="2", key="tier", new="gold")])
            shop.webhooks.drain()
            woo.webhooks.drain()
            recorder.wait_for(2)
            listed = run("list")
        assert {e.connection for e in recorder.events} == {"shop", "woo"}
        assert {e.type for e in recorder.events} == {"customer.updated"}
        assert len(listed["subscriptions"]) == len(first)
        assert listed["deliveries"]["processed"] == 2
        assert {r["topic"] for r in listed["recent"]} == {"customers/update",
                                                           "customer.updated"}
        assert run("process")["processed"] == 0  # the served worker did it all
        with store.session() as session:
            assert delivery_counts(session)["processed"] == 2
