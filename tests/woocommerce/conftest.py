"""Fixtures for the WooCommerce adapter tests: emulators on loopback and connectors to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from shoploop.emulation import FaultPlan
from shoploop.plugins.woocommerce import RetryPolicy, WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator

FAST_RETRY = RetryPolicy(attempts=8, base_delay=0.01, max_delay=0.05)
"""Retries without slowing the suite down (the emulator's Retry-After is capped too)."""


def connect(emulator: WooCommerceEmulator, name: str = "woo-test", *,
            retry: RetryPolicy = FAST_RETRY, **settings: Any) -> WooCommerceConnector:
    """A connector to ``emulator``; secrets go through the environment mapping like in
    production (``*_env`` references)."""
    config = WooCommerceConfig.model_validate({
        "type": "woocommerce", "url": emulator.url, "consumer_key_env": "WOO_KEY",
        "consumer_secret_env": "WOO_SECRET", "webhook_secret_env": "WOO_WEBHOOK_SECRET",
        "timeout": 5, **settings})
    environ = {"WOO_KEY": emulator.key, "WOO_SECRET": emulator.secret,
               "WOO_WEBHOOK_SECRET": emulator.webhook_secret}
    return WooCommerceConnector(name, config, environ=environ, retry=retry)


@pytest.fixture
def woo_connect() -> Callable[..., WooCommerceConnector]:
    """``woo_connect(emulator, name=…, **settings)`` (test modules cannot import conftest)."""
    return connect


@pytest.fixture
def emulators() -> Iterator[list[WooCommerceEmulator]]:
    """Emulators started during a test, stopped at teardown."""
    started: list[WooCommerceEmulator] = []
    yield started
    for emulator in started:
        emulator.stop()


@pytest.fixture
def start_emulator(emulators: list[WooCommerceEmulator]
                   ) -> Callable[..., WooCommerceEmulator]:
    def start(*, demo_customers: int | None = None, fault_rate: float = 0.0,
              fault_seed: int = 1, lost_answers: float = 0.0,
              **records: Any) -> WooCommerceEmulator:
        faults = FaultPlan(rate=fault_rate, seed=fault_seed, retry_after=0.01)
        if demo_customers is not None:
            emulator = WooCommerceEmulator.from_demo(customers=demo_customers, faults=faults,
                                                     lost_answers=lost_answers)
        else:
            emulator = WooCommerceEmulator.from_records(faults=faults,
                                                        lost_answers=lost_answers, **records)
        emulators.append(emulator)
        return emulator.start()  # type: ignore[return-value]

    return start
