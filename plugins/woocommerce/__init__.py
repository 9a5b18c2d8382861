"""The WooCommerce adapter (REST API ``wc/v3``) and its emulator.

* ``_config.py`` — the ``[connections.<name>]`` model;
* ``_client.py`` — the ``woocommerce`` package over a pooled, retrying ``requests.Session``;
* ``_mapping.py`` — WooCommerce JSON → the contract's models, WordPress meta semantics;
* ``_streams.py`` — resumable cursors (hash change detection for customers, ``modified_after``
  watermarks for orders and products);
* ``_connector.py`` — the connector; ``_webhooks.py`` — signature verification and parsing;
* ``emulator/`` — the emulator behind ``shoploop emulate woocommerce``.

Operator documentation: docs/woocommerce.md.
"""

from __future__ import annotations

from shoploop.hooks import (
    Capability,
    Emulator,
    EmulatorOptions,
    RegisterConnector,
    RegisterEmulator,
    hookimpl,
)

from ._client import PooledAPI, RetryPolicy, WooClient
from ._config import WooCommerceConfig
from ._connector import WooCommerceConnector, create_connector
from ._webhooks import parse_webhook, sign, verify

__all__ = [
    "CAPABILITIES", "PooledAPI", "RetryPolicy", "WooClient", "WooCommerceConfig",
    "WooCommerceConnector", "create_connector", "parse_webhook", "register_connectors",
    "register_emulators", "sign", "verify",
]

CAPABILITIES = (
    Capability.READ_CUSTOMERS,
    Capability.READ_ORDERS,
    Capability.READ_PRODUCTS,
    Capability.WRITE_CUSTOMER_ATTRIBUTES,
    Capability.PUBLISH_RECOMMENDATIONS,
    Capability.ISSUE_REWARDS,
    Capability.VERIFY_WEBHOOKS,
)


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register("woocommerce", config_model=WooCommerceConfig, factory=create_connector,
             capabilities=CAPABILITIES,
             description="WooCommerce store via the REST API (wc/v3)")


def _emulator(options: EmulatorOptions) -> Emulator:
    from .emulator import create_emulator  # lazy: `shoploop plugins` stays fast

    return create_emulator(options)


@hookimpl
def register_emulators(register: RegisterEmulator) -> None:
    register("woocommerce", _emulator,
             description="WooCommerce wc/v3 over demo data (OAuth 1.0a/Basic, batches, "
                         "webhooks, faults)")
