"""The connector conformance kit, run against the NAV emulator over HTTP."""

from __future__ import annotations

import pytest

from shoploop.hooks import AttributeChange
from shoploop.plugins.erp_soap import CAPABILITIES, ErpSoapConfig, connector
from shoploop.plugins.erp_soap.emulator import CUSTOMER_ATTRIBUTE_FIELDS
from shoploop.testing import ConformanceDataset, ConnectorConformance


class TestErpSoapConformance(ConnectorConformance):
    capabilities = CAPABILITIES
    # NAV's ReadMultiple cannot know the end in advance: a full last page is followed by an
    # empty one (the kit documents this case).
    empty_pages_allowed = True
    reward_kind = "credit_note"

    @pytest.fixture
    def make_connector(self, emulator, make_erp):
        def make(dataset: ConformanceDataset):
            emulator.load(customers=dataset.customers, orders=dataset.orders,
                          products=dataset.products, installed_base=dataset.installed_base)
            return make_erp(page_size=10)
        return make

    @pytest.fixture
    def make_unreachable_connector(self):
        def make():
            return connector("erp-gone", ErpSoapConfig(
                type="erp_soap", wsdl="http://127.0.0.1:9/DynamicsNAV/WS/CRONUS/Services?wsdl",
                preset="nav_page", timeout=2, operation_timeout=2))
        return make

    def make_attribute_changes(self, dataset, count, tag):
        """The kit's default keys are free-form; an ERP page has fixed fields, so the changes
        use the attributes the nav_page preset maps."""
        keys = list(CUSTOMER_ATTRIBUTE_FIELDS)
        ids = dataset.ids("customers")
        return [AttributeChange(customer_id=ids[i % len(ids)], key=keys[i // len(ids)],
                                new=f"{tag}-{i}", source="conformance") for i in range(count)]
