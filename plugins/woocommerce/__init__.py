"""WooCommerce connector type (REST API wc/v3). The configuration is final; the adapter itself
arrives with the WooCommerce issue — until then ``config check`` reports it as not implemented."""

from __future__ import annotations

from typing import Any

from pydantic import AnyHttpUrl, Field

from shoploop._connections import UnimplementedConnector
from shoploop.hooks import ConnectionConfig, RegisterConnector, hookimpl


class WooCommerceConfig(ConnectionConfig):
    """``[connections.<name>]`` with ``type = "woocommerce"``."""

    secret_keys = ("consumer_key", "consumer_secret")

    url: AnyHttpUrl = Field(description="The store's base URL, e.g. https://shop.example.com")
    consumer_key_env: str | None = None
    consumer_secret_env: str | None = None
    query_string_auth: bool = False
    timeout: float = Field(default=30.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=32)
    verify_tls: bool = True


def _factory(name: str, settings: Any) -> UnimplementedConnector:
    return UnimplementedConnector(name, settings, pending="WooCommerce adapter, issue #4")


@hookimpl
def register_connectors(register: RegisterConnector) -> None:
    register("woocommerce", config_model=WooCommerceConfig, factory=_factory,
             description="WooCommerce store via the REST API (wc/v3)")
