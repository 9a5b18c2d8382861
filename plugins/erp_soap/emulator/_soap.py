"""SOAP 1.1 envelopes in and out (lxml), dispatched to the page tables.

Only the parts of SOAP the adapter relies on: document/literal bodies, faults as NAV sends them
(HTTP 500, ``text/xml``, ``faultcode``/``faultstring``/``detail``), a WS-Security
UsernameToken header when the emulator runs with ``auth=wsse``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from xml.sax.saxutils import escape

from lxml import etree

from ._pages import PageError, Row, Table

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)


class SoapFault(Exception):
    def __init__(self, text: str, code: str = "a:Microsoft.Dynamics.Nav.Types.Exceptions",
                 status: int = 500) -> None:
        super().__init__(text)
        self.text, self.code, self.status = text, code, status


def fault_envelope(fault: SoapFault) -> bytes:
    return (
        f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body><s:Fault>'
        f'<faultcode xmlns:a="urn:microsoft-dynamics-schemas/error">{escape(fault.code)}'
        f'</faultcode><faultstring xml:lang="en-US">{escape(fault.text)}</faultstring>'
        '<detail><string xmlns="http://schemas.microsoft.com/2003/10/Serialization/">'
        f'{escape(fault.text)}</string></detail></s:Fault></s:Body></s:Envelope>').encode()


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _children(element: etree._Element) -> dict[str, str]:
    return {_local(child): child.text or "" for child in element
            if isinstance(child.tag, str)}


def _record_xml(ns: str, name: str, key: str, row: Row, fields: tuple[str, ...]) -> str:
    body = "".join(f"<{f}>{escape(row[f])}</{f}>" for f in fields if row.get(f) is not None)
    return f'<{name} xmlns="{ns}"><Key>{escape(key)}</Key>{body}</{name}>'


def _envelope(inner: str) -> bytes:
    return f'<s:Envelope xmlns:s="{SOAP_ENV}"><s:Body>{inner}</s:Body></s:Envelope>'.encode()


class SoapDispatcher:
    """Answers one envelope against the tables (one table per page namespace)."""

    def __init__(self, tables: dict[str, Table], *, on_write: Callable[[], None],
                 before_update: Callable[[Table, str], None] | None = None) -> None:
        self.tables = {table.spec.namespace: table for table in tables.values()}
        self.on_write = on_write
        self.before_update = before_update

    def parse(self, body: bytes) -> tuple[etree._Element, etree._Element | None]:
        try:
            envelope = etree.fromstring(body, _PARSER)
        except etree.XMLSyntaxError as exc:
            raise SoapFault(f"The request is not well-formed XML: {exc}", "s:Client") from exc
        header = envelope.find(f"{{{SOAP_ENV}}}Header")
        soap_body = envelope.find(f"{{{SOAP_ENV}}}Body")
        if soap_body is None or len(soap_body) == 0:
            raise SoapFault("The request has no SOAP body.", "s:Client")
        return soap_body[0], header

    def username_token(self, header: etree._Element | None) -> tuple[str, str] | None:
        if header is None:
            return None
        token = header.find(f".//{{{WSSE}}}UsernameToken")
        if token is None:
            return None
        user = token.findtext(f"{{{WSSE}}}Username") or ""
        password = token.findtext(f"{{{WSSE}}}Password") or ""
        return user, password

    def answer(self, operation: etree._Element) -> bytes:
        qname = etree.QName(operation)
        table = self.tables.get(qname.namespace or "")
        if table is None:
            raise SoapFault(f"No page web service with namespace {qname.namespace!r}.", "s:Client")
        name, ns = table.spec.name, table.spec.namespace
        fields = tuple(f for f, _ in table.spec.fields)
        now = datetime.now(UTC)
        try:
            if qname.localname == "ReadMultiple":
                filters = [(f.findtext(f"{{{ns}}}Field") or "", f.findtext(f"{{{ns}}}Criteria")
                            or "") for f in operation.findall(f"{{{ns}}}filter")]
                bookmark = operation.findtext(f"{{{ns}}}bookmarkKey") or None
                size = int(operation.findtext(f"{{{ns}}}setSize") or "0")  # 0: all
                rows = table.read_multiple(filters, bookmark, size)
                if not rows:
                    return _envelope(f'<ReadMultiple_Result xmlns="{ns}"/>')
                records = "".join(_record_xml(ns, name, key, row, fields) for key, row in rows)
                return _envelope(f'<ReadMultiple_Result xmlns="{ns}"><ReadMultiple_Result>'
                                 f"{records}</ReadMultiple_Result></ReadMultiple_Result>")
            if qname.localname == "Read":
                found = table.read(_children(operation))
                inner = _record_xml(ns, name, *found, fields) if found else ""
                return _envelope(f'<Read_Result xmlns="{ns}">{inner}</Read_Result>')
            if qname.localname in ("IsUpdated", "Delete"):
                key = operation.findtext(f"{{{ns}}}Key") or ""
                if qname.localname == "Delete":
                    done = table.delete(key)
                    self.on_write()
                else:
                    done = table.is_updated(key)
                return _envelope(f'<{qname.localname}_Result xmlns="{ns}"><{qname.localname}'
                                 f'_Result>{str(done).lower()}</{qname.localname}_Result>'
                                 f"</{qname.localname}_Result>")
            container = operation.find(f"{{{ns}}}{name}_List")
            items = [] if container is None else [
                _children(e) for e in container.findall(f"{{{ns}}}{name}")]
            if qname.localname == "CreateMultiple":
                for values in items:
                    values.pop("Key", None)
                created = table.create_many(items, now)
                for _ in created:
                    self.on_write()
                records = "".join(_record_xml(ns, name, key, row, fields) for key, row in created)
                return _envelope(f'<CreateMultiple_Result xmlns="{ns}"><{name}_List>{records}'
                                 f"</{name}_List></CreateMultiple_Result>")
            if qname.localname == "UpdateMultiple":
                keyed = [(values.pop("Key", ""), values) for values in items]
                if self.before_update is not None and keyed:
                    self.before_update(table, keyed[0][0])
                updated = table.update_many(keyed, now)
                for _ in updated:
                    self.on_write()
                records = "".join(_record_xml(ns, name, key, row, fields) for key, row in updated)
                return _envelope(f'<UpdateMultiple_Result xmlns="{ns}"><{name}_List>{records}'
                                 f"</{name}_List></UpdateMultiple_Result>")
            if qname.localname in ("Update", "Create"):
                element = operation.find(f"{{{ns}}}{name}")
                if element is None:
                    raise SoapFault(f"{qname.localname} expects a {name} element.", "s:Client")
                values = _children(element)
                key = values.pop("Key", "")
                if qname.localname == "Update":
                    if self.before_update is not None:
                        self.before_update(table, key)
                    key, row = table.update(key, values, now)
                else:
                    key, row = table.create(values, now)
                self.on_write()
                return _envelope(f'<{qname.localname}_Result xmlns="{ns}">'
                                 f"{_record_xml(ns, name, key, row, fields)}"
                                 f"</{qname.localname}_Result>")
        except PageError as exc:
            raise SoapFault(exc.text, exc.code) from exc
        raise SoapFault(f"The operation {qname.localname!r} is not supported by page {name}.",
                        "s:Client")
