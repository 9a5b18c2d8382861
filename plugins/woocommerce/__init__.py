"""The WooCommerce adapter (REST API ``wc/v3``) and its emulator.

* ``_config.py`` — the ``[connections.<name>]`` model;
* ``_client.py`` — the ``woocommerce`` package over a pooled, retrying ``requests.Session``;
* ``_mapping.py`` — WooCommerce JSON → the contract's models, WordPress meta semantics;
* ``_streams.py`` — resumable cursors (hash change detection for customers, ``modified_after``
  watermarks for orders and products);
* ``_connector.py`` — the connector; ``_customers.py`` — creating customers (idempotent by
  e-mail); ``_rewards.py`` — reward coupons; ``_webhooks.py`` — signature checks and parsing;
* ``emulator/`` — the emulator behind ``shoploop emulate woocommerce``.

Operator documentation: docs/woocommerce.md.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from shoploop.hooks import (
    Capability,
    Emulator,
    EmulatorOptions,
    RegisterConnector,
    RegisterEmulator,
    hookimpl,
)

from ._config import WooCommerceConfig
from ._webhooks import parse_webhook, sign, verify

if TYPE_CHECKING:
    from ._client import PooledAPI, RetryPolicy, WooClient
    from ._connector import WooCommerceConnector, create_connector

_LAZY = {"PooledAPI": "._client", "RetryPolicy": "._client", "WooClient": "._client",
         "WooCommerceConnector": "._connector", "create_connector": "._connector"}


def __getattr__(name: str) -> Any:
    # The HTTP client stack loads only when a connector is built: every `shoploop` call loads
    # this plugin, and `--help` or `plugins` must not pay for requests and the woocommerce package.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _factory(name: str, settings: Any) -> Any:
    from ._connector import create_connector

    return create_connector(name, settings)

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
    Capability.CREATE_CUSTOMERS,
    Capability.PUBLISH_RECOMMENDATIONS,
    Capability.ISSUE_REWARDS,
    Capability.VERIFY_WEBHOOKS,
    Capability.COUNT_RECORDS,
)


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register("woocommerce", config_model=WooCommerceConfig, factory=_factory,
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
