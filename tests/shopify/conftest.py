"""Fixtures for the Shopify adapter tests: an emulator on a real loopback socket and
connectors configured for it (test modules cannot import each other; they share these)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shoploop.hooks import EmulatorOptions
from shoploop.plugins.shopify import ShopifyConfig, ShopifyConnector
from shoploop.plugins.shopify.emulator import SECRET, TOKEN, ShopifyEmulator

ENV = {"SHOPLOOP_TEST_SHOPIFY_TOKEN": TOKEN, "SHOPLOOP_TEST_SHOPIFY_SECRET": SECRET}


@pytest.fixture
def shopify_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    return ENV


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., ShopifyEmulator]]:
    """``start_emulator(customers=0, faults=0.0, seed=1, **extra)`` → a started emulator,
    stopped at teardown."""
    started: list[ShopifyEmulator] = []

    def start(customers: int = 0, faults: float = 0.0, seed: int = 1,
              **extra: Any) -> ShopifyEmulator:
        emulator = ShopifyEmulator(EmulatorOptions(
            customers=customers, faults=faults, seed=seed,
            extra={k: str(v) for k, v in extra.items()}))
        started.append(emulator.start())
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(start_emulator: Callable[..., ShopifyEmulator]) -> ShopifyEmulator:
    """An empty emulator with a Shopify Plus-sized bucket (tests about the bucket itself
    start their own, smaller one)."""
    return start_emulator(bucket=2000, restore_rate=1000)


def settings_for(emulator: ShopifyEmulator | None, **overrides: Any) -> ShopifyConfig:
    values: dict[str, Any] = {
        "type": "shopify", "shop": f"127.0.0.1:{emulator.port if emulator else 9}",
        "scheme": "http", "access_token_env": "SHOPLOOP_TEST_SHOPIFY_TOKEN",
        "client_secret_env": "SHOPLOOP_TEST_SHOPIFY_SECRET", "timeout": 5.0}
    values.update(overrides)
    return ShopifyConfig.model_validate(values)


@pytest.fixture
def connect(shopify_env: dict[str, str]) -> Iterator[Callable[..., ShopifyConnector]]:
    """``connect(emulator, **config_overrides)`` → a connector, closed at teardown."""
    made: list[ShopifyConnector] = []

    def make(emulator: ShopifyEmulator | None, **overrides: Any) -> ShopifyConnector:
        connector = ShopifyConnector("shop-test", settings_for(emulator, **overrides))
        made.append(connector)
        return connector

    yield make
    for connector in made:
        connector.close()


@pytest.fixture
def record_sent() -> Callable[[ShopifyConnector], list[tuple[str, dict[str, Any]]]]:
    """``record_sent(connector)`` wraps the connector's client: the list it returns fills with
    the first word pair and the variables of every document sent, in order."""

    def wrap(connector: ShopifyConnector) -> list[tuple[str, dict[str, Any]]]:
        sent: list[tuple[str, dict[str, Any]]] = []
        execute = connector.client.execute

        def recording(query: str, variables: dict[str, Any] | None = None, *,
                      operation: str, retries: int | None = None) -> Any:
            sent.append((" ".join(query.split()[:2]), variables or {}))
            return execute(query, variables, operation=operation, retries=retries)

        connector.client.execute = recording  # type: ignore[method-assign]
        return sent

    return wrap
