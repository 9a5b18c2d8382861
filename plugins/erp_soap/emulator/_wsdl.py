"""The emulator's WSDL: NAV page web services (document/literal SOAP 1.1), one service, port and
namespace per page, gathered in one document so one zeep client serves a whole connection.

Generated from the page definitions (deterministic text): the shape of every page is written
once, in :mod:`._pages`, and the WSDL can never disagree with what the server answers. Element
names follow NAV: ``Read``/``Read_Result``, ``ReadMultiple(filter*, bookmarkKey, setSize)`` /
``ReadMultiple_Result``, ``Create``/``Create_Result``, ``Update``/``Update_Result``.
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ._pages import PAGES, PageSpec

DEFINITIONS_NS = "urn:microsoft-dynamics-schemas/shoploop/services"
OPERATIONS = ("Read", "ReadMultiple", "Create", "Update", "UpdateMultiple")


def _schema(page: PageSpec) -> str:
    n = page.name
    fields = "".join(
        f'<xsd:element minOccurs="0" maxOccurs="1" name="{name}" type="xsd:{kind}"/>'
        for name, kind in (("Key", "string"), *page.fields))
    read_keys = "".join(f'<xsd:element minOccurs="1" maxOccurs="1" name="{name}" '
                        f'type="xsd:{page.field_type(name)}"/>' for name in page.primary_key)

    def wrapper(element: str, inner: str) -> str:
        return (f'<xsd:element name="{element}"><xsd:complexType><xsd:sequence>{inner}'
                '</xsd:sequence></xsd:complexType></xsd:element>')

    record = f'<xsd:element minOccurs="1" maxOccurs="1" name="{n}" type="tns:{n}"/>'
    optional = f'<xsd:element minOccurs="0" maxOccurs="1" name="{n}" type="tns:{n}"/>'
    many = f'<xsd:element minOccurs="1" maxOccurs="1" name="{n}_List" type="tns:{n}_List"/>'
    return (
        f'<xsd:schema elementFormDefault="qualified" targetNamespace={quoteattr(page.namespace)} '
        f'xmlns:tns={quoteattr(page.namespace)}>'
        f'<xsd:complexType name="{n}"><xsd:sequence>{fields}</xsd:sequence></xsd:complexType>'
        f'<xsd:complexType name="{n}_List"><xsd:sequence><xsd:element minOccurs="1" '
        f'maxOccurs="unbounded" name="{n}" type="tns:{n}"/></xsd:sequence></xsd:complexType>'
        f'<xsd:complexType name="{n}_Filter"><xsd:sequence>'
        '<xsd:element minOccurs="1" maxOccurs="1" name="Field" type="xsd:string"/>'
        '<xsd:element minOccurs="1" maxOccurs="1" name="Criteria" type="xsd:string"/>'
        '</xsd:sequence></xsd:complexType>'
        + wrapper("Read", read_keys) + wrapper("Read_Result", optional)
        + wrapper("ReadMultiple",
                  f'<xsd:element minOccurs="0" maxOccurs="unbounded" name="filter" '
                  f'type="tns:{n}_Filter"/><xsd:element minOccurs="0" maxOccurs="1" '
                  'name="bookmarkKey" nillable="true" type="xsd:string"/>'
                  '<xsd:element minOccurs="1" maxOccurs="1" name="setSize" type="xsd:int"/>')
        + wrapper("ReadMultiple_Result",
                  '<xsd:element minOccurs="0" maxOccurs="1" name="ReadMultiple_Result" '
                  f'type="tns:{n}_List"/>')
        + wrapper("Create", record) + wrapper("Create_Result", record)
        + wrapper("Update", record) + wrapper("Update_Result", record)
        + wrapper("UpdateMultiple", many) + wrapper("UpdateMultiple_Result", many)
        + "</xsd:schema>")


def _page_definitions(page: PageSpec, address: str) -> tuple[str, str, str, str]:
    n, ns = page.name, page.namespace
    messages = "".join(
        f'<message name="{n}_{op}"><part name="parameters" element="p{n}:{op}"/></message>'
        f'<message name="{n}_{op}_Result"><part name="parameters" '
        f'element="p{n}:{op}_Result"/></message>' for op in OPERATIONS)
    port_type = (f'<portType name="{n}_Port">' + "".join(
        f'<operation name="{op}"><input name="{op}" message="tns:{n}_{op}"/>'
        f'<output name="{op}_Result" message="tns:{n}_{op}_Result"/></operation>'
        for op in OPERATIONS) + "</portType>")
    binding = (f'<binding name="{n}_Binding" type="tns:{n}_Port">'
               '<soap:binding transport="http://schemas.xmlsoap.org/soap/http"/>' + "".join(
                   f'<operation name="{op}"><soap:operation style="document" '
                   f'soapAction={quoteattr(f"{ns}:{op}")}/><input name="{op}"><soap:body '
                   f'use="literal"/></input><output name="{op}_Result"><soap:body '
                   'use="literal"/></output></operation>' for op in OPERATIONS) + "</binding>")
    service = (f'<service name="{n}_Service"><port name="{n}_Port" binding="tns:{n}_Binding">'
               f'<soap:address location={quoteattr(f"{address}/{n}")}/></port></service>')
    return messages, port_type, binding, service


def render_wsdl(address: str, pages: tuple[PageSpec, ...] = PAGES) -> str:
    """The WSDL with the services of ``pages`` (default: all) at ``address/<PageName>``."""
    parts = [_page_definitions(page, address) for page in pages]
    prefixes = " ".join(f"xmlns:p{page.name}={quoteattr(page.namespace)}" for page in pages)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<definitions targetNamespace="{DEFINITIONS_NS}" xmlns="http://schemas.xmlsoap.org/wsdl/"'
        ' xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        f' xmlns:tns="{DEFINITIONS_NS}" {prefixes}>'
        "<types>" + "".join(_schema(page) for page in pages) + "</types>"
        + "".join(p[0] for p in parts) + "".join(p[1] for p in parts)
        + "".join(p[2] for p in parts) + "".join(p[3] for p in parts)
        + "</definitions>")
