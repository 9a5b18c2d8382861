"""Shopify connector type (GraphQL Admin API). The configuration is final; the adapter itself
arrives with the Shopify issue — until then ``config check`` reports it as not implemented."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from shoploop._connections import UnimplementedConnector
from shoploop.hooks import ConnectionConfig, RegisterConnector, hookimpl


class ShopifyConfig(ConnectionConfig):
    """``[connections.<name>]`` with ``type = "shopify"``."""

    secret_keys = ("access_token", "client_secret")

    shop: str = Field(
        # localhost is for the bundled emulator.
        pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$|^(localhost|127\.0\.0\.1)(:\d+)?$",
        description="The shop's myshopify.com domain, e.g. acme.myshopify.com")
    api_version: str = Field(default="2025-10", pattern=r"^\d{4}-(01|04|07|10)$|^unstable$")
    access_token_env: str | None = None
    client_id: str | None = None
    client_secret_env: str | None = None
    timeout: float = Field(default=30.0, gt=0)
    max_cost_share: float = Field(default=0.8, gt=0, le=1)


def _factory(name: str, settings: Any) -> UnimplementedConnector:
    return UnimplementedConnector(name, settings, pending="Shopify adapter, issue #3")


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register("shopify", config_model=ShopifyConfig, factory=_factory,
             description="Shopify store via the GraphQL Admin API")
