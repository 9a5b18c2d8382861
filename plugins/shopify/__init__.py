"""The Shopify adapter (GraphQL Admin API) and its emulator.

* ``_config.py`` — ``[connections.<name>]`` with ``type = "shopify"``;
* ``_client.py`` / ``_throttle.py`` — a thin httpx GraphQL client that owns cost-based
  throttling, retries and error mapping;
* ``_reads.py`` / ``_mapping.py`` — incremental reads with resumable cursors;
* ``_writes.py`` — attributes as metafields (full 25-metafield calls) and tags;
* ``_creates.py`` — customers created once per e-mail (``customerCreate``, taken → lookup);
* ``_rewards.py`` — discount codes, idempotent by code; ``_webhooks.py`` — HMAC and events;
* ``emulator/`` — the Shopify emulator (``shoploop emulate shopify``).

Operator documentation: docs/shopify.md.
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

from ._config import ShopifyConfig

if TYPE_CHECKING:
    from ._connector import ShopifyConnector, create_connector

_LAZY = {"ShopifyConnector": "._connector", "create_connector": "._connector"}


def __getattr__(name: str) -> Any:
    # The HTTP client stack loads only when a connector is built: every `shoploop` call loads
    # this plugin, and `--help` or `plugins` must not pay for httpx.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _factory(name: str, settings: Any) -> Any:
    from ._connector import create_connector

    return create_connector(name, settings)

__all__ = ["CAPABILITIES", "ShopifyConfig", "ShopifyConnector", "create_connector"]

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
    register("shopify", config_model=ShopifyConfig, factory=_factory,
             capabilities=CAPABILITIES,
             description="Shopify store via the GraphQL Admin API")


def _emulator(options: EmulatorOptions) -> Emulator:
    from .emulator import ShopifyEmulator  # graphql-core only when an emulator is wanted

    return ShopifyEmulator(options)


@hookimpl
def register_emulators(register: RegisterEmulator) -> None:
    register("shopify", _emulator,
             description="Shopify GraphQL Admin API with cost throttling, faults and webhooks")
