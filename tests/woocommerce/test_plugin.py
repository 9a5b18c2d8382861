"""The plugin registers the connector type (with its capabilities) and the emulator."""

from __future__ import annotations

import pytest

import shoploop.plugins.woocommerce as woocommerce
from shoploop.hooks import ConfigError, EmulatorOptions
from shoploop.plugins.woocommerce import CAPABILITIES, WooCommerceConfig, WooCommerceConnector


def test_registers_type_and_emulator(shoploop_host, register_plugin) -> None:
    register_plugin(woocommerce, name="woocommerce")
    ctype = shoploop_host.connectors.types["woocommerce"]
    assert set(ctype.capabilities) == set(CAPABILITIES)
    connector = ctype.factory("shop", {"type": "woocommerce", "url": "https://shop.example"})
    assert isinstance(connector, WooCommerceConnector) and connector.page_size == 100
    emulator = shoploop_host.emulators.emulators["woocommerce"].factory(
        EmulatorOptions(customers=30, faults=0.0, extra={"strip_authorization": "1"}))
    with emulator:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert len(emulator.data.customers) == 30  # type: ignore[attr-defined]
        block = emulator.connection_block("woo")
        assert block.startswith("[connections.woo]") and 'type = "woocommerce"' in block
        assert set(emulator.environment()) == {
            "WOOCOMMERCE_EMULATOR_KEY", "WOOCOMMERCE_EMULATOR_SECRET",
            "WOOCOMMERCE_EMULATOR_WEBHOOK_SECRET"}


def test_secrets_only_by_environment_reference() -> None:
    with pytest.raises(ValueError, match="consumer_secret_env"):
        WooCommerceConfig.model_validate({"type": "woocommerce", "url": "https://s.example",
                                          "consumer_secret": "cs_inline"})
    config = WooCommerceConfig.model_validate({"type": "woocommerce", "url": "https://s.example",
                                               "consumer_key_env": "MISSING_WOO_KEY"})
    with pytest.raises(ConfigError, match="MISSING_WOO_KEY"):
        config.secret("consumer_key", {})
    with pytest.raises(ValueError, match="page_size"):
        WooCommerceConfig.model_validate({"type": "woocommerce", "url": "https://s.example",
                                          "page_size": 101})
