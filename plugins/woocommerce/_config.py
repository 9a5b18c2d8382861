"""The ``[connections.<name>]`` table of a ``woocommerce`` connection."""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field

from shoploop.hooks import ConnectionConfig


class WooCommerceConfig(ConnectionConfig):
    """``[connections.<name>]`` with ``type = "woocommerce"``. Keys and the webhook secret come
    from the environment (``*_env``); see docs/woocommerce.md."""

    secret_keys = ("consumer_key", "consumer_secret", "webhook_secret")

    url: AnyHttpUrl = Field(description="The store's base URL, e.g. https://shop.example.com")
    consumer_key_env: str | None = None
    consumer_secret_env: str | None = None
    query_string_auth: bool = Field(
        default=False, description="Send the keys as query parameters (HTTPS only) for hosts "
                                   "that strip the Authorization header.")
    timeout: float = Field(default=30.0, gt=0)
    concurrency: int = Field(default=4, ge=1, le=32,
                             description="Pooled connections kept open to the store.")
    verify_tls: bool = True
    page_size: int = Field(default=100, ge=1, le=100,
                           description="per_page of list reads (WooCommerce allows 1-100).")
    attribute_batch_size: int = Field(
        default=100, ge=1, le=100,
        description="Changes per /customers/batch call (WooCommerce accepts at most 100).")
    customer_batch_size: int = Field(
        default=100, ge=1, le=100,
        description="Customers created per /customers/batch call (at most 100).")
    meta_prefix: str = Field(
        default="shoploop_", min_length=1,
        description="meta_data keys owned by shoploop: attribute `x` is meta `<prefix>x`.")
    coupon_prefix: str = Field(default="sl-", description="Prefix of reward coupon codes.")
    webhook_secret_env: str | None = None
    modified_after_margin: float = Field(
        default=1.0, ge=1.0, le=50_400,
        description="Seconds subtracted from the watermark in modified_after queries; raise "
                    "to the store's UTC offset (up to 50400) if it ignores dates_are_gmt.")

    def reward_kinds(self) -> frozenset[str]:
        """Coupons (``discount_code`` is the same thing here)."""
        return frozenset({"coupon", "discount_code"})
