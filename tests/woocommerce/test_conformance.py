"""The WooCommerce connector passes the conformance kit against the emulator, over sockets."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
from pydantic import BaseModel

from shoploop.hooks import AttributeChange
from shoploop.plugins.woocommerce import CAPABILITIES, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.testing import ConformanceDataset, ConnectorConformance


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestWooCommerceConformance(ConnectorConformance):
    capabilities = CAPABILITIES
    reward_kind = "coupon"
    fault_rate = 0.0
    _emulator: WooCommerceEmulator | None = None

    @pytest.fixture
    def make_connector(self, start_emulator: Callable[..., WooCommerceEmulator],
                       woo_connect: Callable[..., WooCommerceConnector],
                       ) -> Callable[[ConformanceDataset], WooCommerceConnector]:
        def make(dataset: ConformanceDataset) -> WooCommerceConnector:
            emulator = start_emulator(customers=dataset.customers, products=dataset.products,
                                      orders=dataset.orders, fault_rate=self.fault_rate)
            self._emulator = emulator  # ids are positional, so any dataset's map fits
            return woo_connect(emulator, page_size=10)

        return make

    @pytest.fixture
    def make_unreachable_connector(self, woo_connect: Callable[..., WooCommerceConnector],
                                   ) -> Callable[[], WooCommerceConnector]:
        class Nowhere:
            url = f"http://127.0.0.1:{_closed_port()}"
            key, secret, webhook_secret = "ck_x", "cs_x", "wh_x"

        return lambda: woo_connect(Nowhere)

    def record_key(self, stream: str, record: BaseModel) -> str:
        """WooCommerce assigns integer ids; map them back to the dataset's ids."""
        record_id = str(record.id)  # type: ignore[attr-defined]
        if record_id.isdigit() and self._emulator is not None:
            return self._emulator.data.source_ids[stream][int(record_id)]
        return record_id

    def make_attribute_changes(self, dataset: ConformanceDataset, count: int,
                               tag: str) -> list[AttributeChange]:
        positions = {cid: n for n, cid in enumerate(dataset.ids("customers"), 1)}
        return [c.model_copy(update={"customer_id": str(positions[c.customer_id])})
                for c in super().make_attribute_changes(dataset, count, tag)]


class TestWooCommerceConformanceUnderFaults(TestWooCommerceConformance):
    """The same promises with 10 % of requests answered 500/503/429 or dropped: retries must
    make faults invisible to the contract (nothing lost, nothing twice)."""

    fault_rate = 0.10
