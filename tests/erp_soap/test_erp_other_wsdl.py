"""A second, non-NAV WSDL (tests/erp_soap/acme_partners.wsdl: other service, operation, field
names and namespace, a request wrapper, a row version instead of a Key) is read and updated
through configuration alone — a WSDL file relative to the config, an endpoint override."""

from __future__ import annotations

import copy
from pathlib import Path

from shoploop.hooks import AttributeChange, WriteStatus
from shoploop.plugins.erp_soap import ErpSoapConfig, connector

ACME_MAPPING = {
    "customers": {
        "service": "PartnerDirectory", "port": "PartnerDirectorySoap", "page_size": 5,
        "id_field": "partnerId", "key_field": "rowVersion", "modified_field": "changedAt",
        "read": {"operation": "FindPartners", "records_path": "page.partner",
                 "size_param": "query.maxRows", "bookmark_param": "query.resumeAfter",
                 "bookmark_field": "partnerId", "filter_param": "query.criterion",
                 "filter_field": "attribute", "filter_criteria": "expression",
                 "since_param": "query.changedSince"},
        "update_operation": "ChangePartner", "update_element": "partner",
        "fields": {"id": "partnerId", "company": "displayName", "email": "mail",
                   "updated_at": "changedAt"},
        "attributes": {
            "industry": "branch", "loyalty_tier": "loyaltyTier",
            "customer_group": {"field": "segment", "transform": "map",
                               "options": {"values": {"A": "key-account", "B": "wholesale",
                                                      "C": "retail"}},
                               "write_transform": "map",
                               "write_options": {"values": {"key-account": "A",
                                                            "wholesale": "B", "retail": "C"}}},
        },
    },
}


def _connector(acme, tmp_path, mapping=None):
    (tmp_path / "acme.wsdl").write_bytes(
        (Path(__file__).parent / "acme_partners.wsdl").read_bytes())
    config = ErpSoapConfig.model_validate(
        {"type": "erp_soap", "wsdl": "acme.wsdl", "endpoint": f"{acme.url}/soap/partners",
         "operation_timeout": 5, "mapping": mapping or ACME_MAPPING},
        context={"base_dir": tmp_path})
    assert config.wsdl == str(tmp_path / "acme.wsdl")
    return connector("acme", config)


def _read_all(read, cursor=None):
    items, pages = [], 0
    while True:
        page = read(cursor)
        items += page.items
        cursor, pages = page.cursor, pages + 1
        if not page.has_more:
            return items, cursor, pages


def test_reads_pages_and_maps_fields(acme, tmp_path):
    erp = _connector(acme, tmp_path)
    customers, checkpoint, pages = _read_all(erp.read_customers)
    assert [c.id for c in customers] == sorted(acme.partners)
    assert pages == 5  # 23 partners, 5 per page
    first = customers[0]
    assert (first.company, first.email) == ("Partner 0 GmbH", "p0@acme.example")
    assert first.attributes == {"industry": "food", "customer_group": "key-account"}
    assert _read_all(erp.read_customers, checkpoint)[0] == []
    check = erp.check()
    assert check.reachable and check.authorised and not check.warnings
    assert "PartnerDirectory.FindPartners" in check.detail
    assert "PartnerDirectory.ChangePartner" in check.detail


def test_updates_with_row_version_and_reads_the_change_incrementally(acme, tmp_path):
    erp = _connector(acme, tmp_path)
    _, checkpoint, _ = _read_all(erp.read_customers)
    results = erp.write_customer_attributes([
        AttributeChange(customer_id="BP-0003", key="customer_group", new="retail"),
        AttributeChange(customer_id="BP-0003", key="loyalty_tier", new="gold"),
        AttributeChange(customer_id="BP-0004", key="industry", new="retail"),
    ])
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.WRITTEN,
                                           WriteStatus.UNCHANGED]
    assert acme.partners["BP-0003"]["segment"] == "C"
    assert acme.partners["BP-0003"]["loyaltyTier"] == "gold"
    assert acme.partners["BP-0003"]["rowVersion"] == "2"
    changed, _, _ = _read_all(erp.read_customers, checkpoint)
    assert [c.id for c in changed] == ["BP-0003"]
    assert changed[0].attributes["loyalty_tier"] == "gold"


def test_row_version_conflict_is_retried_once_then_reported(acme, tmp_path):
    erp = _connector(acme, tmp_path)
    acme.interfere = [{}]  # another user saves the record between our read and our update
    result = erp.write_customer_attributes(
        [AttributeChange(customer_id="BP-0001", key="loyalty_tier", new="silver")])
    assert result[0].status == WriteStatus.WRITTEN, result[0].message
    assert acme.partners["BP-0001"]["loyaltyTier"] == "silver"
    assert acme.partners["BP-0001"]["rowVersion"] == "3"  # theirs, then our retry

    acme.interfere = [{}, {}]  # saved again during the retry: reported, not forced
    result = erp.write_customer_attributes(
        [AttributeChange(customer_id="BP-0002", key="loyalty_tier", new="silver")])
    assert result[0].status == WriteStatus.CONFLICT
    assert "Row version mismatch" in result[0].message
    assert acme.partners["BP-0002"]["loyaltyTier"] == ""

    acme.interfere = [{"loyaltyTier": "bronze"}]  # they changed the very field we write
    result = erp.write_customer_attributes(
        [AttributeChange(customer_id="BP-0005", key="loyalty_tier", new="silver")])
    assert result[0].status == WriteStatus.CONFLICT
    assert "loyaltyTier" in result[0].message
    assert acme.partners["BP-0005"]["loyaltyTier"] == "bronze"  # never overwritten blindly


def test_without_modified_field_changes_are_found_by_hash(acme, tmp_path):
    mapping = copy.deepcopy(ACME_MAPPING)
    mapping["customers"]["modified_field"] = None
    mapping["customers"]["read"]["since_param"] = None
    erp = _connector(acme, tmp_path, mapping)
    everything, checkpoint, _ = _read_all(erp.read_customers)
    assert len(everything) == 23
    assert _read_all(erp.read_customers, checkpoint)[0] == []
    acme.partners["BP-0010"]["mail"] = "changed@acme.example"
    changed, checkpoint, _ = _read_all(erp.read_customers, checkpoint)
    assert [(c.id, c.email) for c in changed] == [("BP-0010", "changed@acme.example")]
    assert _read_all(erp.read_customers, checkpoint)[0] == []
