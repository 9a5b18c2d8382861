"""``[connections.<name>]`` with ``type = "shopify"`` (operator page: docs/shopify.md)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from shoploop.hooks import ConnectionConfig

from ._versions import today_utc, version_warning

DEFAULT_API_VERSION = "2026-10"
"""The newest stable version on 2026-12-03 (supported until 2027-10-01); ``config check``
warns once a configured version is past support (``_versions.py``)."""


class ShopifyConfig(ConnectionConfig):
    """One Shopify store reached through the GraphQL Admin API."""

    secret_keys = ("access_token", "client_secret", "webhook_secret")

    shop: str = Field(
        # localhost is for the bundled emulator.
        pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$|^(localhost|127\.0\.0\.1)(:\d+)?$",
        description="The shop's myshopify.com domain, e.g. acme.myshopify.com")
    scheme: Literal["https", "http"] = Field(
        default="https", description="http only for the emulator on localhost/127.0.0.1")
    api_version: str = Field(
        default=DEFAULT_API_VERSION, pattern=r"^\d{4}-(01|04|07|10)$|^unstable$",
        description="Shopify supports a stable version for 12 months; move it forward")
    access_token_env: str | None = None
    client_id: str | None = Field(
        default=None, description="With client_secret_env: fetch the token by the "
                                  "client-credentials grant instead of access_token_env")
    client_secret_env: str | None = Field(
        default=None, description="The app's client secret; also the webhook HMAC key")
    webhook_secret_env: str | None = Field(
        default=None, description="Webhook HMAC key when it differs from the client secret")
    webhook_max_age: float = Field(
        default=6 * 3600, ge=60,
        description="Seconds after X-Shopify-Triggered-At a delivery is still accepted "
                    "(Shopify retries for 4 hours); older is refused as a replay")
    timeout: float = Field(default=30.0, gt=0)
    max_cost_share: float = Field(default=0.8, gt=0, le=1)
    max_retries: int = Field(default=8, ge=0, le=50,
                             description="Retries of one request on 429/5xx/timeouts")
    max_wait: float = Field(default=300.0, gt=0,
                            description="Seconds one request may wait for budget and retries "
                                        "before RateLimitedError/UnreachableError")
    page_size: int = Field(default=100, ge=1, le=250)
    attribute_batch_size: int = Field(
        default=250, ge=1, le=250,
        description="Changes per write call; changed values go out in full 25-metafield "
                    "metafieldsSet calls")
    customer_batch_size: int = Field(
        default=100, ge=1, le=250,
        description="Drafts per create_customers call; they go out as aliased customerCreate "
                    "fields, as many to a request as its cost budget allows (10 points each)")
    metafield_namespace: str = Field(default="shoploop", min_length=3, max_length=255)
    tag_attributes: list[str] = Field(
        default_factory=list,
        description="Attribute keys written as tags '<key>:<value>' (tagsAdd/tagsRemove) "
                    "instead of metafields")
    bulk_threshold: int = Field(
        default=0, ge=0,
        description="A first full read of a stream with more records than this, or an "
                    "incremental pass with more changes than this, runs as a bulk operation "
                    "(0: never)")

    def reward_kinds(self) -> frozenset[str]:
        """Discount codes (``coupon`` is the same thing here) and gift cards."""
        return frozenset({"discount_code", "coupon", "gift_card"})

    def config_warnings(self, today: date | None = None) -> list[str]:
        """An ``api_version`` past Shopify's support (or ``unstable``), with the version to
        set; ``today`` is for tests (default: today in UTC)."""
        warning = version_warning(self.api_version, today or today_utc())
        return [warning] if warning else []

    @model_validator(mode="after")
    def _http_only_locally(self) -> ShopifyConfig:
        if self.scheme == "http" and self.shop.endswith(".myshopify.com"):
            raise ValueError("scheme = \"http\" is only for the emulator on localhost; "
                             "Shopify stores are reached over https")
        return self
