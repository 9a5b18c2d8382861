"""A fast path for paged reads: zeep builds and sends the request, lxml parses the answer.

zeep deserialises every element through its generic XSD machinery, which costs several times
the HTTP round trip and the XML parsing (bench/bench_erp_soap.py measured zeep's reply
processing at about two thirds of a read). For the record lists of paged reads the adapter
parses the reply with lxml and converts each element with its XSD type's own ``pythonvalue`` —
the shape (the path to the repeated record element and one converter per field) is derived once
per operation from zeep's parsed WSDL. A reply that is not a plain SOAP answer (a fault, an
HTML page, garbage) goes back to zeep's reply processing, so errors are exactly zeep's.

Operations whose output has no repeated element with the id field among simple children fall
back to the ordinary zeep call. :func:`input_requires` reads the input side of the same parsed
WSDL: whether a parameter is required (NAV's ReadMultiple ``filter``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


@dataclass(frozen=True)
class RecordShape:
    path: tuple[str, ...]
    """Local names from the reply element (the Body's child) down to the record element."""
    converters: dict[str, Callable[[str], Any]]
    """Field name → XSD ``pythonvalue``."""


def _children(xsd_type: Any) -> list[tuple[str, Any]]:
    try:
        return list(xsd_type.elements)
    except (AttributeError, TypeError):
        return []


def _find(xsd_type: Any, id_field: str, depth: int) -> tuple[list[str], Any] | None:
    for name, element in _children(xsd_type):
        element_type = getattr(element, "type", None)
        fields = _children(element_type)
        repeated = getattr(element, "max_occurs", 1) == "unbounded" or (
            isinstance(getattr(element, "max_occurs", 1), int) and element.max_occurs > 1)
        if repeated and any(field == id_field for field, _ in fields):
            return [name], element_type
        if depth > 0 and fields:
            found = _find(element_type, id_field, depth - 1)
            if found is not None:
                return [name, *found[0]], found[1]
    return None


def record_shape(proxy: Any, operation: str, id_field: str) -> RecordShape | None:
    """The record shape of a read operation, or None when the fast path does not apply."""
    try:
        body = proxy._binding._operations[operation].output.body
    except (AttributeError, KeyError):
        return None
    found = _find(getattr(body, "type", None), id_field, depth=3)
    if found is None:
        return None
    path, record_type = found
    converters: dict[str, Callable[[str], Any]] = {}
    for name, element in _children(record_type):
        convert = getattr(getattr(element, "type", None), "pythonvalue", None)
        if convert is None or _children(element.type):
            return None  # nested complex fields: let zeep build them
        converters[name] = convert
    return RecordShape(tuple(path), converters)


def input_requires(proxy: Any, operation: str, path: str) -> bool:
    """Does the operation's input declare the parameter at dotted ``path`` with
    ``minOccurs >= 1`` (and every element above it)? False when it is optional or unknown."""
    try:
        xsd_type = proxy._binding._operations[operation].input.body.type
    except (AttributeError, KeyError):
        return False
    for part in path.split("."):
        element = dict(_children(xsd_type)).get(part)
        if element is None or getattr(element, "min_occurs", 0) < 1:
            return False
        xsd_type = getattr(element, "type", None)
    return True


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def parse_records(content: bytes, shape: RecordShape) -> list[dict[str, Any]] | None:
    """The records of a SOAP reply as dicts of typed values; None when the reply is not a plain
    SOAP answer (zeep then produces the fault or transport error)."""
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError:
        return None
    if _local(root) != "Envelope":
        return None
    body = next((child for child in root if _local(child) == "Body"), None)
    if body is None or len(body) == 0 or _local(body[0]) == "Fault":
        return None
    nodes = [body[0]]
    for name in shape.path:
        nodes = [child for node in nodes for child in node if _local(child) == name]
    records = []
    converters = shape.converters
    for node in nodes:
        record: dict[str, Any] = {}
        for child in node:
            name = _local(child)
            text = child.text
            if name in converters:
                # An empty or nil element reads as missing, as zeep and the mapping treat it.
                nil = not text or child.get(_NIL) in ("true", "1")
                record[name] = None if nil else converters[name](text)
        records.append(record)
    return records
