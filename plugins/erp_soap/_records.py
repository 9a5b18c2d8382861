"""SOAP records ↔ domain dicts through a mapping's field specs and the transform registry."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from shoploop.hooks import AttributeValue, Transform

from ._client import dig
from ._mapping import FieldMap, FieldSpec

_ID_FIELDS = {"id", "customer_id", "product_id", "number", "sku", "customer_number",
              "serial_number"}


_FILTER_SPECIALS = set("|&<>=.*@()'\" ")


def filter_literal(value: str) -> str:
    """A value for an exact-match NAV filter: quoted (``'…'``, quotes doubled) when it holds a
    character the filter syntax would read as an operator (``|``, ``..``, ``*``, ``@``, …)."""
    if not value or not (set(value) & _FILTER_SPECIALS):
        return value
    return "'" + value.replace("'", "''") + "'"


def any_of(values: Sequence[str]) -> str:
    """Filter criteria matching exactly one of ``values``."""
    return "|".join(filter_literal(value) for value in values)


def stamp(value: Any) -> datetime | None:
    """A last-modified value as an aware UTC datetime (dates count as midnight UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return stamp(datetime.fromisoformat(str(value)))


def attribute_value(value: Any) -> AttributeValue:
    """What the contract's attributes may hold: Decimals become floats, dates ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [str(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def wire_text(value: Any) -> str:
    """The canonical text of a value as the ERP stores it, for change detection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


class Converter:
    def __init__(self, transforms: Mapping[str, Transform]) -> None:
        self.transforms = transforms

    def value(self, record: Any, spec: FieldSpec) -> Any:
        value = spec.value if spec.field is None else dig(record, spec.field)
        if isinstance(value, str) and value == "":
            value = None  # NAV sends blank codes as empty elements
        if spec.transform:
            value = self.transforms[spec.transform](value, **spec.options)
        return value

    def to_dict(self, record: Any, fields: FieldMap, attributes: FieldMap | None = None,
                ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        address: dict[str, Any] = {}
        for name, spec in fields.items():
            value = self.value(record, spec)
            if value is None:
                continue
            if name in _ID_FIELDS and not isinstance(value, str):
                value = str(value)
            if name.startswith("address."):
                address[name.removeprefix("address.")] = value
            else:
                out[name] = value
        if address:
            out["addresses"] = [{"kind": "billing", **address}]
        if attributes:
            out["attributes"] = {key: attribute_value(value) for key, spec in attributes.items()
                                 if (value := self.value(record, spec)) is not None}
        return out

    def encode(self, spec: FieldSpec, value: Any) -> str:
        """The text to send for a domain value (writes)."""
        if spec.write_transform:
            value = self.transforms[spec.write_transform](value, **spec.write_options)
        return wire_text(value)

    @staticmethod
    def fingerprint(record: Any, fields: FieldMap, attributes: FieldMap) -> str:
        """A short hash over the mapped elements: detects changes when the ERP has no
        last-modified field."""
        digest = hashlib.blake2b(digest_size=8)
        for spec in (*fields.values(), *attributes.values()):
            if spec.field:
                digest.update(wire_text(dig(record, spec.field)).encode())
                digest.update(b"\x1f")
        return digest.hexdigest()
