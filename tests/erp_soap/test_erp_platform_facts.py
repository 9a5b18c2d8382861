"""The emulator and the adapter against NAV's published page WSDLs and example envelopes
(tests/fixtures/platforms/nav/, each with its source): the emulator's WSDL declares what NAV
declares, it answers a published request with a published answer's shape, and the adapter's
requests fit the published WSDLs (a full read sends a filter) and it parses a published answer."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
import zeep
from lxml import etree

from shoploop.emulation import EmulatorServer, Request, Response
from shoploop.plugins.erp_soap import ErpSoapConfig, connector

NAV = Path(__file__).parents[1] / "fixtures" / "platforms" / "nav"
XSD = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
EMULATED_PAGES = ("Customer", "Item", "SalesOrder", "ServiceItem", "SalesLines")
_PARSER = etree.XMLParser(remove_comments=True)


def _xml(data: bytes | str | Path) -> etree._Element:
    raw = data.read_bytes() if isinstance(data, Path) else data
    return etree.fromstring(raw.encode() if isinstance(raw, str) else raw, _PARSER)


def _schema(root: etree._Element) -> etree._Element:
    return root if etree.QName(root).localname == "schema" else root.find(
        f"{{{WSDL}}}types/{{{XSD}}}schema")


def _children(schema: etree._Element, page: str, kind: str, name: str,
              ) -> list[tuple[str, str, str, str]]:
    """(name, minOccurs, maxOccurs, type) of a top-level element's or complexType's sequence,
    defaults filled in (XSD: 1), the page name in types replaced by ``{Page}``."""
    if kind == "element":
        node = schema.find(f"{{{XSD}}}element[@name='{name}']/{{{XSD}}}complexType")
    else:
        node = schema.find(f"{{{XSD}}}complexType[@name='{name}']")
    assert node is not None, f"{kind} {name} is not declared"
    return [(e.get("name"), e.get("minOccurs", "1"), e.get("maxOccurs", "1"),
             e.get("type", "").replace(f"tns:{page}_", "tns:{Page}_").replace(
                 f"tns:{page}", "tns:{Page}"))
            for e in node.find(f"{{{XSD}}}sequence")]


def _emulator_wsdl(emulator, page: str) -> etree._Element:
    answer = requests.get(emulator.page_wsdl_url.format(page=page), timeout=5,
                          auth=(emulator.username, emulator.password))
    assert answer.status_code == 200
    return _xml(answer.content)


PUBLISHED = {  # file → the page name it publishes
    "customer_page.wsdl": "Customer", "salesorder_page_readmultiple.xsd": "salesorder",
    "customerlist_page.wsdl": "CustomerList"}


def _read_multiple_shape(schema: etree._Element, page: str) -> tuple[object, ...]:
    return (_children(schema, page, "element", "ReadMultiple"),
            _children(schema, page, "element", "ReadMultiple_Result"),
            _children(schema, page, "complexType", f"{page}_Filter"))


def test_published_wsdls_agree_on_read_multiple():
    """2009 R2, 2015 and 2016 publish the same ReadMultiple: the shape the emulator copies."""
    shapes = {name: _read_multiple_shape(_schema(_xml(NAV / name)), page)
              for name, page in PUBLISHED.items()}
    expected = shapes["customer_page.wsdl"]
    assert expected[0] == [("filter", "1", "unbounded", "tns:{Page}_Filter"),
                           ("bookmarkKey", "0", "1", "xsd:string"),
                           ("setSize", "1", "1", "xsd:int")]
    assert expected[2] == [("Field", "1", "1", "tns:{Page}_Fields"),
                           ("Criteria", "1", "1", "xsd:string")]
    assert all(shape == expected for shape in shapes.values()), shapes


@pytest.mark.parametrize("page", EMULATED_PAGES)
def test_emulator_declares_read_multiple_as_nav_publishes_it(emulator, page):
    published = _read_multiple_shape(_schema(_xml(NAV / "customer_page.wsdl")), "Customer")
    wsdl = _emulator_wsdl(emulator, page)
    assert _read_multiple_shape(_schema(wsdl), page) == published
    # <Page>_Fields: an xsd:string enumeration of exactly the record's fields (not Key), as NAV's
    schema = _schema(wsdl)
    restriction = schema.find(f"{{{XSD}}}simpleType[@name='{page}_Fields']/{{{XSD}}}restriction")
    assert restriction is not None and restriction.get("base") == "xsd:string"
    record = [name for name, *_ in _children(schema, page, "complexType", page)]
    assert record[0] == "Key"
    assert [e.get("value") for e in restriction] == record[1:]


def test_emulator_customer_page_matches_the_published_one(emulator):
    """Every operation both declare, element for element; the record type, binding and names."""
    published = _xml(NAV / "customer_page.wsdl")
    served = _emulator_wsdl(emulator, "Customer")
    ours, theirs = _schema(served), _schema(published)
    operations = [op.get("name") for op in published.find(f"{{{WSDL}}}portType")]
    assert set(operations) <= {op.get("name") for op in served.find(f"{{{WSDL}}}portType")}
    for operation in operations:
        for element in (operation, f"{operation}_Result"):
            assert _children(ours, "Customer", "element", element) == \
                _children(theirs, "Customer", "element", element), element
    record = _children(ours, "Customer", "complexType", "Customer")
    assert record[0] == ("Key", "0", "1", "xsd:string")
    assert all(low == "0" and high == "1" for _, low, high, _ in record)
    assert _children(ours, "Customer", "complexType", "Customer_List") == \
        _children(theirs, "Customer", "complexType", "Customer_List")
    for root in (served, published):
        assert root.get("targetNamespace") == "urn:microsoft-dynamics-schemas/page/customer"
        assert root.find(f"{{{WSDL}}}service").get("name") == "Customer_Service"
        assert root.find(f"{{{WSDL}}}service/{{{WSDL}}}port").get("name") == "Customer_Port"
        actions = {op.get("name"): op[0].get("soapAction")
                   for op in root.find(f"{{{WSDL}}}binding").findall(f"{{{WSDL}}}operation")}
        assert actions["ReadMultiple"] == "urn:microsoft-dynamics-schemas/page/customer:" \
                                          "ReadMultiple"


def _shape(element: etree._Element) -> list[tuple[str | None, str]]:
    """The element path (namespace, local name) from the envelope down to the first record."""
    path = []
    while element is not None:
        qname = etree.QName(element)
        path.append((qname.namespace, qname.localname))
        element = next((child for child in element if isinstance(child.tag, str)), None)
    return path


def _post(emulator, page: str, operation: str, body: bytes) -> etree._Element:
    answer = requests.post(
        f"{emulator.page_wsdl_url.format(page=page)}", data=body, timeout=5,
        auth=(emulator.username, emulator.password),
        headers={"Content-Type": "text/xml; charset=utf-8",
                 "SOAPAction": f"urn:microsoft-dynamics-schemas/page/{page.lower()}:{operation}"})
    assert answer.status_code == 200, answer.text
    return _xml(answer.content)


def _customers(*rows: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"No": no, "Name": f"Customer {no}", "Country_Region_Code": country,
             "Location_Code": location, "Address": "192 Market Square",
             "Address_2": "Address no. 2"} for no, country, location in rows]


def test_emulator_answers_the_published_read_multiple_request(emulator):
    """Freddy's request (two filters, `a|b` alternatives, no setSize) gets the published answer's
    shape, with the filter semantics applied."""
    emulator.tables["Customer"].replace(_customers(
        ("10000", "GB", "RED"), ("20000", "GB", "GREEN"), ("30000", "DE", "BLUE"),
        ("40000", "GB", "BLUE"), ("50000", "GB", "")))
    answer = _post(emulator, "Customer", "ReadMultiple",
                   (NAV / "customer_readmultiple_request.xml").read_bytes())
    published = _xml(NAV / "customer_readmultiple_response.xml")
    assert _shape(answer)[:5] == _shape(published)[:5]
    records = answer.find(f"{{{SOAP_ENV}}}Body")[0][0]
    ns = "urn:microsoft-dynamics-schemas/page/customer"
    assert [r.findtext(f"{{{ns}}}No") for r in records] == ["10000", "40000"]
    assert all(etree.QName(r[0]).localname == "Key" for r in records)


def test_emulator_answers_the_published_read_request(emulator):
    emulator.tables["Customer"].replace(_customers(("10000", "GB", "RED")))
    answer = _post(emulator, "Customer", "Read", (NAV / "customer_read_request.xml").read_bytes())
    published = _xml(NAV / "customer_read_result.xml")
    assert _shape(answer)[:4] == _shape(published)[:4]
    ours = [etree.QName(e).localname for e in answer.find(f"{{{SOAP_ENV}}}Body")[0][0]]
    theirs = [etree.QName(e).localname for e in published.find(f"{{{SOAP_ENV}}}Body")[0][0]]
    assert ours[0] == theirs[0] == "Key"
    assert [name for name in ours if name in theirs] == theirs  # same fields, same order


class _PublishedAnswer(EmulatorServer):
    """Answers every POST with the published CustomerList ReadMultiple answer; keeps requests."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.bodies: list[bytes] = []
        self._lock = threading.Lock()

    def _answer(self, request: Request) -> Response:
        with self._lock:
            self.bodies.append(request.body)
        return Response(200, (NAV / "customerlist_readmultiple_response.xml").read_bytes(),
                        {"Content-Type": "text/xml; charset=utf-8"})


def test_adapter_full_read_against_a_published_wsdl_sends_a_filter_and_parses_the_answer():
    server = _PublishedAnswer().start()
    try:
        erp = connector("nav2009", ErpSoapConfig.model_validate({
            "type": "erp_soap", "wsdl": str(NAV / "customerlist_page.wsdl"),
            "endpoint": f"{server.url}/Page/CustomerList", "operation_timeout": 5,
            "mapping": {"customers": {
                "service": "CustomerList_Service", "port": "CustomerList_Port",
                "id_field": "No", "key_field": None, "read": {"bookmark_field": "No"},
                "fields": {"id": "No", "company": "Name"}}}}))
        page = erp.read_customers()
        erp.close()
    finally:
        server.stop()
    assert [(c.id, c.company) for c in page.items] == [("123", "Customer #1"),
                                                       ("456", "Customer #2")]
    assert not page.has_more
    sent = _xml(server.bodies[0]).find(f"{{{SOAP_ENV}}}Body")[0]
    ns = "urn:microsoft-dynamics-schemas/page/customerlist"
    filters = sent.findall(f"{{{ns}}}filter")
    assert [(f.findtext(f"{{{ns}}}Field"), f.findtext(f"{{{ns}}}Criteria") or "")
            for f in filters] == [("No", "")]


def _enumeration(name: str) -> list[str]:
    schema = _schema(_xml(NAV / "customer_page.wsdl"))
    restriction = schema.find(f"{{{XSD}}}simpleType[@name='{name}']/{{{XSD}}}restriction")
    return [e.get("value") for e in restriction]


def test_adapter_read_requests_fit_the_published_customer_wsdl():
    """Full, continued and incremental reads build against NAV 2016's Customer WSDL (zeep checks
    minOccurs there), and every filter's Field is one of the published Customer_Fields (zeep does
    not check enumerations, NAV does)."""
    erp = connector("nav2016", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": str(NAV / "customer_page.wsdl"), "preset": "nav_page",
        "operation_timeout": 5,
        "mapping": {"customers": {"modified_field": "Last_Date_Modified"}}}))
    mapping = erp.mapping.customers
    assert mapping is not None
    proxy = erp.service(mapping)
    since = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    ns = "urn:microsoft-dynamics-schemas/page/customer"
    sent = []
    for bookmark, moment in ((None, None), ("12;abc;", None), (None, since)):
        kwargs = erp.read_arguments(mapping, bookmark, moment, 100, ())
        envelope = erp.client.create_message(proxy, "ReadMultiple", **kwargs)
        body = envelope.find(f"{{{SOAP_ENV}}}Body")[0]
        sent.append(([(f.findtext(f"{{{ns}}}Field"), f.findtext(f"{{{ns}}}Criteria") or "")
                      for f in body.findall(f"{{{ns}}}filter")],
                     body.findtext(f"{{{ns}}}bookmarkKey"), body.findtext(f"{{{ns}}}setSize")))
    assert sent == [([("No", "")], None, "100"), ([("No", "")], "12;abc;", "100"),
                    ([("Last_Date_Modified", f">={since.isoformat()}")], None, "100")]
    fields = _enumeration("Customer_Fields")
    assert all(field in fields for filters, _, _ in sent for field, _ in filters)
    erp.close()


def test_the_match_all_filter_is_configurable():
    erp = connector("nav2016", ErpSoapConfig.model_validate({
        "type": "erp_soap", "wsdl": str(NAV / "customer_page.wsdl"), "preset": "nav_page",
        "mapping": {"customers": {"read": {"match_all_field": "Name",
                                           "match_all_criteria": "*"}}}}))
    assert erp.mapping.customers is not None
    kwargs = erp.read_arguments(erp.mapping.customers, None, None, 10, ())
    assert kwargs["filter"] == [{"Field": "Name", "Criteria": "*"}]
    # a condition of its own (reading by id) replaces it
    kwargs = erp.read_arguments(erp.mapping.customers, None, None, 10, (("No", "10000"),))
    assert kwargs["filter"] == [{"Field": "No", "Criteria": "10000"}]
    erp.close()


def test_zeep_checks_min_occurs_but_not_enumerations():
    """Why the adapter must send a filter itself, and why a wrong Field reaches the ERP."""
    client = zeep.Client(str(NAV / "customer_page.wsdl"))
    proxy = client.bind("Customer_Service", "Customer_Port")
    with pytest.raises(zeep.exceptions.ValidationError):
        client.create_message(proxy, "ReadMultiple", setSize=10)
    client.create_message(proxy, "ReadMultiple", setSize=10,
                          filter=[{"Field": "Not_A_Field", "Criteria": ""}])
