"""The connector conformance kit, run for ``shopify`` against the emulator over real sockets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel

from shoploop.hooks import AttributeChange, Capability, RewardSpec
from shoploop.plugins.shopify import CAPABILITIES, ShopifyConnector
from shoploop.plugins.shopify.emulator import ShopifyEmulator, numeric_id
from shoploop.testing import ConformanceDataset, ConnectorConformance

_KIND = {"customers": "Customer", "orders": "Order", "products": "Product"}


class TestShopifyConformance(ConnectorConformance):
    capabilities = CAPABILITIES
    settings: ClassVar[dict[str, Any]] = {}
    emulator_options: ClassVar[dict[str, Any]] = {}

    @pytest.fixture
    def make_connector(self, start_emulator: Callable[..., ShopifyEmulator],
                       connect: Callable[..., ShopifyConnector]) -> Callable[..., Any]:
        # A Shopify Plus-sized bucket (1,000 points/s): the kit reads every stream several
        # times, and at the Standard rate the restore rate alone would take minutes.
        emulator = start_emulator(bucket=2000, restore_rate=1000, **self.emulator_options)
        seeded: list[str] = []

        def make(dataset: ConformanceDataset) -> ShopifyConnector:
            if not seeded or seeded[-1] != dataset.fingerprint():
                emulator.data.clear()
                emulator.data.load(customers=dataset.customers, products=dataset.products,
                                   orders=dataset.orders)
                seeded.append(dataset.fingerprint())
            return connect(emulator, page_size=10, **self.settings)

        self.emulator = emulator
        return make

    @pytest.fixture
    def make_unreachable_connector(self, connect: Callable[..., ShopifyConnector]
                                   ) -> Callable[[], ShopifyConnector]:
        # Port 9 (discard) is closed on loopback; no retries keeps the test fast.
        return lambda: connect(None, page_size=10, max_retries=0)

    def record_key(self, stream: str, record: BaseModel) -> str:
        """Shopify assigns its own ids; map them back to the dataset's through the emulator."""
        record_id = str(getattr(record, "id"))  # noqa: B009
        if record_id.isdigit():  # customers made by create_customers have no dataset id
            return self.emulator.data.source_ids.get(
                f"gid://shopify/{_KIND[stream]}/{record_id}", record_id)
        return record_id

    def make_attribute_changes(self, dataset: ConformanceDataset, count: int,
                               tag: str) -> list[AttributeChange]:
        return [c.model_copy(update={"customer_id": str(numeric_id("Customer", c.customer_id))})
                for c in super().make_attribute_changes(dataset, count, tag)]

    def make_reward_spec(self, dataset: ConformanceDataset, idempotency_key: str) -> RewardSpec:
        spec = super().make_reward_spec(dataset, idempotency_key)
        customer = spec.recipient_customer_id
        return spec.model_copy(update={
            "recipient_customer_id": str(numeric_id("Customer", customer)) if customer
            else None})


class TestShopifyBulkConformance(TestShopifyConformance):
    """The read contract again with every first full read served by a bulk operation."""

    capabilities = (Capability.READ_CUSTOMERS, Capability.READ_ORDERS,
                    Capability.READ_PRODUCTS)
    settings: ClassVar[dict[str, Any]] = {"bulk_threshold": 5}
    emulator_options: ClassVar[dict[str, Any]] = {"bulk_polls": 0}
