"""The mapping model, the nav_page preset, transforms in both directions, and bookmark paging
over varying data (hypothesis)."""

from __future__ import annotations

import os
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from shoploop.hooks import ConfigError, EmulatorOptions
from shoploop.plugins.erp_soap import ErpSoapConfig, FieldSpec, connector
from shoploop.plugins.erp_soap._records import Converter
from shoploop.plugins.erp_soap.emulator import ErpEmulator
from shoploop.testing import make_dataset
from shoploop.transforms import BUILTIN_TRANSFORMS

TRANSFORMS = {name: fn for name, (fn, _) in BUILTIN_TRANSFORMS.items()}


def _config(**mapping):
    return ErpSoapConfig.model_validate({"type": "erp_soap", "wsdl": "http://erp.invalid/x",
                                         "preset": "nav_page", "mapping": mapping})


def test_preset_derives_nav_names_from_the_page_and_keeps_overrides():
    config = _config(customers={"page": "CustomerCard",
                                "attributes": {"industry": "Branchencode"}},
                     installed_base=False)
    customers = config.mapping.customers
    assert customers is not None
    assert (customers.service, customers.port, customers.update_element) == (
        "CustomerCard_Service", "CustomerCard_Port", "CustomerCard")
    assert customers.attributes["industry"].field == "Branchencode"
    assert customers.attributes["customer_group"].field == "Customer_Posting_Group"
    assert customers.read.operation == "ReadMultiple" and customers.read.bookmark_param == \
        "bookmarkKey"
    assert config.mapping.installed_base is None
    assert config.mapping.rewards["credit_note"].service == "SalesCreditMemo_Service"


def test_mapping_errors_are_config_errors():
    with pytest.raises(ValidationError, match="either `field`"):
        FieldSpec.model_validate({"transform": "lower"})
    with pytest.raises(ValidationError, match="extra"):
        _config(customers={"fieldz": {}})
    with pytest.raises(ValidationError, match="needs username and password_env"):
        ErpSoapConfig(type="erp_soap", wsdl="x.wsdl", auth="basic")
    with pytest.raises(ValidationError, match="must not be written into the config"):
        ErpSoapConfig.model_validate({"type": "erp_soap", "wsdl": "x", "password": "p"})
    with pytest.raises(ConfigError, match="unknown transform"):
        connector("x", _config(customers={"fields": {"email": {"field": "E_Mail",
                                                               "transform": "nope"}}}))


lists = st.lists(st.text(st.characters(blacklist_characters=",", blacklist_categories=("Cs",)),
                         min_size=1).map(str.strip).filter(bool), max_size=5)


@given(lists)
def test_list_attribute_round_trips_through_join_and_split(values):
    spec = FieldSpec(field="Segments", transform="split", write_transform="join")
    converter = Converter(TRANSFORMS)
    text = converter.encode(spec, values)
    read_back = converter.value({"Segments": text}, spec)
    assert (read_back or []) == values


@given(st.dictionaries(st.sampled_from(["A", "B", "C"]),
                       st.text(min_size=1, max_size=8), min_size=3, max_size=3)
       .filter(lambda d: len(set(d.values())) == 3), st.sampled_from(["A", "B", "C"]))
def test_coded_values_round_trip_through_map_tables(table, code):
    inverse = {v: k for k, v in table.items()}
    spec = FieldSpec(field="Group", transform="map", options={"values": table},
                     write_transform="map", write_options={"values": inverse})
    converter = Converter(TRANSFORMS)
    domain = converter.value({"Group": code}, spec)
    assert converter.encode(spec, domain) == code


@pytest.fixture(scope="module")
def shared_emulator():
    server = ErpEmulator(EmulatorOptions(customers=0, extra={"auth": "none"})).start()
    yield server
    server.stop()


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.integers(0, 40), orders=st.integers(1, 30), page_size=st.integers(1, 12),
       seed=st.integers(0, 5))
def test_bookmark_paging_returns_every_record_once(shared_emulator, customers, orders,
                                                   page_size, seed):
    dataset = make_dataset(seed=seed, customers=max(customers, 1), orders=orders, products=4,
                           installed_base=0)
    if customers == 0:
        dataset.customers = []
    shared_emulator.load(customers=dataset.customers, orders=dataset.orders,
                         products=dataset.products)
    erp = connector("prop", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": shared_emulator.wsdl_url, "preset": "nav_page",
        "operation_timeout": 5,
        "mapping": {s: {"page_size": page_size} for s in ("customers", "orders")}}))
    try:
        for read, expected in ((erp.read_customers, dataset.ids("customers")),
                               (erp.read_orders, dataset.ids("orders"))):
            seen, cursor = [], None
            while True:
                page = read(cursor)
                assert len(page.items) <= page_size
                seen += [item.id for item in page.items]
                cursor = page.cursor.model_validate_json(page.cursor.model_dump_json())
                if not page.has_more:
                    break
            assert sorted(seen) == sorted(expected)
            assert len(seen) == len(set(seen))
    finally:
        erp.close()


def test_emulator_connection_block_connects(monkeypatch):
    server = ErpEmulator(EmulatorOptions(customers=15)).start()
    try:
        block = tomllib.loads(server.connection_block("erp"))["connections"]["erp"]
        for key, value in server.environment().items():
            monkeypatch.setenv(key, value)
        assert "password" not in block and block["password_env"] in os.environ
        erp = connector("erp", ErpSoapConfig.model_validate(block))
        assert len(erp.read_customers().items) == 15
        assert erp.check().authorised
        erp.close()
    finally:
        server.stop()


def test_documented_examples_validate(monkeypatch):
    """Every TOML example in docs/erp-soap.md is a valid erp_soap connection."""
    import re
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "erp-soap.md").read_text()
    blocks = re.findall(r"```toml\n(.*?)```", text, re.S)
    assert len(blocks) == 2
    for block in blocks:
        for name, table in tomllib.loads(block)["connections"].items():
            config = ErpSoapConfig.model_validate(table, context={"base_dir": Path("/cfg")})
            assert config.mapping.customers is not None, name
            connector(name, config)  # transforms resolve


ids = st.text(st.characters(min_codepoint=32, max_codepoint=0x2FF,
                            blacklist_characters="\x7f"), min_size=1, max_size=12)


@given(st.lists(ids, min_size=1, max_size=8, unique=True), st.data())
def test_id_filters_match_exactly_the_named_records(all_ids, data):
    """Ids holding filter operators (|, .., *, ', …) are quoted: a filter on some ids finds
    exactly those records in the emulator's NAV filter implementation."""
    from shoploop.plugins.erp_soap._records import any_of
    from shoploop.plugins.erp_soap.emulator import PAGES, Table

    table = Table(next(p for p in PAGES if p.name == "Customer"))
    table.replace([{"No": value, "Name": "x"} for value in all_ids])
    wanted = data.draw(st.lists(st.sampled_from(all_ids), min_size=1, unique=True))
    found = [row["No"] for _, row in table.read_multiple([("No", any_of(wanted))], None, 100)]
    assert sorted(found) == sorted(wanted)


def test_write_to_a_customer_whose_number_looks_like_a_filter(shared_emulator):
    from shoploop.hooks import AttributeChange, Customer, WriteStatus

    odd = ["K|1", "K..2", "K'3", "K*"]
    shared_emulator.load(customers=[Customer(id=value, email=f"{n}@x.example")
                                    for n, value in enumerate(odd)])
    erp = connector("odd", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": shared_emulator.wsdl_url, "preset": "nav_page",
        "operation_timeout": 5}))
    try:
        results = erp.write_customer_attributes(
            [AttributeChange(customer_id=value, key="industry", new=f"i{n}")
             for n, value in enumerate(odd)])
        assert [r.status for r in results] == [WriteStatus.WRITTEN] * 4
        table = shared_emulator.tables["Customer"]
        assert [table.read({"No": v})[1]["Industry_Code"] for v in odd] == ["i0", "i1", "i2",
                                                                            "i3"]
    finally:
        erp.close()


def test_nav_document_status_reads_in_contract_terms(shared_emulator):
    dataset = make_dataset(customers=3, orders=2, products=3, installed_base=0)
    shared_emulator.load(customers=dataset.customers, orders=dataset.orders,
                         products=dataset.products)
    lines = shared_emulator.tables["SalesLines"]
    for key, row in lines.rows():
        status = "Released" if row["Document_No"] == dataset.orders[0].id else "Open"
        lines.touch(lines.decode_key(key)[0], {"Status": status})
    erp = connector("status", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": shared_emulator.wsdl_url, "preset": "nav_page",
        "operation_timeout": 5}))
    try:
        orders = erp.read_orders().items
        assert [(o.id, o.status, o.channel) for o in orders] == [
            (dataset.orders[0].id, "paid", "erp"), (dataset.orders[1].id, "pending", "erp")]
        assert [len(o.lines) for o in orders] == [len(o.lines) for o in dataset.orders]
    finally:
        erp.close()


def test_configuration_gaps_are_reported_not_raised_raw(shared_emulator, monkeypatch):
    from shoploop.hooks import ConnectorError, NotSupportedError

    shared_emulator.load(products=make_dataset(customers=1, products=3).products)
    base = {"type": "erp_soap", "wsdl": shared_emulator.wsdl_url, "preset": "nav_page",
            "operation_timeout": 5}
    monkeypatch.setitem(__import__("sys").modules, "requests_ntlm", None)  # not installed
    monkeypatch.setenv("NTLM_PASSWORD", "x")
    ntlm = connector("ntlm", ErpSoapConfig.model_validate(
        {**base, "auth": "ntlm", "username": "DOMAIN\\user", "password_env": "NTLM_PASSWORD"}))
    with pytest.raises(ConfigError, match="requests-ntlm"):
        ntlm.read_customers()
    assert not ntlm.check().reachable

    partial = connector("partial", ErpSoapConfig.model_validate(
        {**base, "mapping": {"installed_base": False,
                             "products": {"fields": {"price": "Description"}}}}))
    with pytest.raises(NotSupportedError, match="no mapping for installed_base"):
        partial.read_installed_base()
    with pytest.raises(ConnectorError, match="does not fit Product") as caught:
        partial.read_products()
    assert caught.value.connection == "partial" and "P00000" in str(caught.value)
    partial.close()
