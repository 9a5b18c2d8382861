"""The emulator's WSDL: NAV page web services (document/literal SOAP 1.1), one service, port and
namespace per page.

Generated from the page definitions (deterministic text): the shape of every page is written
once, in :mod:`._pages`, and the WSDL can never disagree with what the server answers. The
schema follows the WSDLs NAV publishes for a page (a NAV 2016 Customer page WSDL, kept as
``tests/fixtures/platforms/nav/customer_page.wsdl`` with its source; a test compares the two):

- ``ReadMultiple(filter+, bookmarkKey?, setSize)``: ``filter`` has the default
  ``minOccurs="1"`` and ``maxOccurs="unbounded"`` — a client must send at least one — and is a
  ``<Page>_Filter`` whose ``Field`` is the ``<Page>_Fields`` enumeration of the page's fields;
- every record carries an optional ``Key`` (optimistic concurrency, sent back on ``Update``);
- ``Read`` takes the primary key, ``Delete`` and ``IsUpdated`` the ``Key``;
  ``Create``/``Update`` one record, ``CreateMultiple``/``UpdateMultiple`` a ``<Page>_List``.

``…/Page/<Page>`` serves one page as NAV does (definitions in the page's namespace, message
names as NAV's); ``…/Services`` gathers every page in one document, so one zeep client serves a
whole connection (our convenience; message names are then prefixed with the page).
"""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from ._pages import PAGES, PageSpec

DEFINITIONS_NS = "urn:microsoft-dynamics-schemas/shoploop/services"
OPERATIONS = ("Read", "ReadMultiple", "IsUpdated", "Create", "CreateMultiple", "Update",
              "UpdateMultiple", "Delete")


def _element(name: str, kind: str, low: int = 1, high: str = "1") -> str:
    return f'<xsd:element minOccurs="{low}" maxOccurs="{high}" name="{name}" type="{kind}"/>'


def _wrapper(element: str, inner: str) -> str:
    return (f'<xsd:element name="{element}"><xsd:complexType><xsd:sequence>{inner}'
            '</xsd:sequence></xsd:complexType></xsd:element>')


def _schema(page: PageSpec) -> str:
    n = page.name
    fields = _element("Key", "xsd:string", 0) + "".join(
        _element(name, f"xsd:{kind}", 0) for name, kind in page.fields)
    enumeration = "".join(f'<xsd:enumeration value="{name}"/>' for name, _ in page.fields)
    read_keys = "".join(_element(name, f"xsd:{page.field_type(name)}")
                        for name in page.primary_key)
    record, many = _element(n, f"tns:{n}"), _element(f"{n}_List", f"tns:{n}_List")
    return (
        f'<xsd:schema elementFormDefault="qualified" targetNamespace={quoteattr(page.namespace)} '
        f'xmlns:tns={quoteattr(page.namespace)}>'
        f'<xsd:complexType name="{n}"><xsd:sequence>{fields}</xsd:sequence></xsd:complexType>'
        f'<xsd:complexType name="{n}_List"><xsd:sequence>'
        f'{_element(n, f"tns:{n}", 1, "unbounded")}</xsd:sequence></xsd:complexType>'
        f'<xsd:simpleType name="{n}_Fields"><xsd:restriction base="xsd:string">{enumeration}'
        '</xsd:restriction></xsd:simpleType>'
        f'<xsd:complexType name="{n}_Filter"><xsd:sequence>'
        f'{_element("Field", f"tns:{n}_Fields")}{_element("Criteria", "xsd:string")}'
        '</xsd:sequence></xsd:complexType>'
        + _wrapper("Read", read_keys) + _wrapper("Read_Result", _element(n, f"tns:{n}", 0))
        + _wrapper("ReadMultiple",
                   _element("filter", f"tns:{n}_Filter", 1, "unbounded")
                   + _element("bookmarkKey", "xsd:string", 0) + _element("setSize", "xsd:int"))
        + _wrapper("ReadMultiple_Result", _element("ReadMultiple_Result", f"tns:{n}_List", 0))
        + _wrapper("IsUpdated", _element("Key", "xsd:string"))
        + _wrapper("IsUpdated_Result", _element("IsUpdated_Result", "xsd:boolean"))
        + _wrapper("Create", record) + _wrapper("Create_Result", record)
        + _wrapper("CreateMultiple", many) + _wrapper("CreateMultiple_Result", many)
        + _wrapper("Update", record) + _wrapper("Update_Result", record)
        + _wrapper("UpdateMultiple", many) + _wrapper("UpdateMultiple_Result", many)
        + _wrapper("Delete", _element("Key", "xsd:string"))
        + _wrapper("Delete_Result", _element("Delete_Result", "xsd:boolean"))
        + "</xsd:schema>")


def _page_definitions(page: PageSpec, address: str, alone: bool) -> tuple[str, str, str, str]:
    n, ns = page.name, page.namespace
    # Alone, the page's own WSDL: messages named as the operations (NAV). Gathered, the
    # messages of all pages share one namespace and need the page in their names.
    message = "" if alone else f"{n}_"
    element = "tns" if alone else f"p{n}"
    messages = "".join(
        f'<message name="{message}{op}"><part name="parameters" element="{element}:{op}"/>'
        f'</message><message name="{message}{op}_Result"><part name="parameters" '
        f'element="{element}:{op}_Result"/></message>' for op in OPERATIONS)
    port_type = (f'<portType name="{n}_Port">' + "".join(
        f'<operation name="{op}"><input name="{op}" message="tns:{message}{op}"/>'
        f'<output name="{op}_Result" message="tns:{message}{op}_Result"/></operation>'
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
    """The WSDL with the services of ``pages`` (default: all) at ``address/<PageName>``; one
    page alone is rendered as NAV publishes it, in the page's namespace."""
    alone = len(pages) == 1
    target = pages[0].namespace if alone else DEFINITIONS_NS
    parts = [_page_definitions(page, address, alone) for page in pages]
    prefixes = "" if alone else " ".join(
        f"xmlns:p{page.name}={quoteattr(page.namespace)}" for page in pages)
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<definitions targetNamespace="{target}" xmlns="http://schemas.xmlsoap.org/wsdl/"'
        ' xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
        f' xmlns:tns="{target}" {prefixes}>'
        "<types>" + "".join(_schema(page) for page in pages) + "</types>"
        + "".join(p[0] for p in parts) + "".join(p[1] for p in parts)
        + "".join(p[2] for p in parts) + "".join(p[3] for p in parts)
        + "</definitions>")
