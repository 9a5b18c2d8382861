"""The emulator's tables: NAV-style pages with a primary key, a ``Key`` per record that changes on
every modification (optimistic concurrency) and bookmark paging.

A page's records are kept sorted by primary key, so ``ReadMultiple`` after a bookmark is a
bisect plus a slice — what keeps the emulator fast enough for the 50k-customer benchmark.
"""

from __future__ import annotations

import base64
import bisect
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

FieldType = Literal["string", "decimal", "int", "date", "dateTime", "boolean"]
Row = dict[str, str]
"""A record as the wire sees it: field name → XML text (absent: no element)."""


@dataclass(frozen=True)
class PageSpec:
    """One page web service: ``name`` is the record element and service, ``fields`` in order."""

    name: str
    fields: tuple[tuple[str, FieldType], ...]
    primary_key: tuple[str, ...]
    modified_field: str | None = "Last_Modified_Date_Time"
    number_series: str | None = None
    """Prefix for numbers the page assigns on ``Create`` when the primary key is empty."""

    @property
    def namespace(self) -> str:
        # NAV: one namespace per page, urn:microsoft-dynamics-schemas/page/<lower-case name>
        return f"urn:microsoft-dynamics-schemas/page/{self.name.lower()}"

    def field_type(self, name: str) -> FieldType | None:
        return dict(self.fields).get(name)


_STAMP = "Last_Modified_Date_Time"

PAGES: tuple[PageSpec, ...] = (
    PageSpec("Customer", (
        ("No", "string"), ("Name", "string"), ("Contact", "string"), ("E_Mail", "string"),
        ("Phone_No", "string"), ("Address", "string"), ("Address_2", "string"),
        ("Post_Code", "string"), ("City", "string"), ("Country_Region_Code", "string"),
        ("Location_Code", "string"),
        ("VAT_Registration_No", "string"), ("Customer_Posting_Group", "string"),
        ("Customer_Price_Group", "string"), ("Salesperson_Code", "string"),
        ("Industry_Code", "string"), ("Shoploop_Lifecycle_Stage", "string"),
        ("Shoploop_RFM_Segment", "string"), ("Shoploop_Satisfaction", "string"),
        ("Shoploop_Referral_Count", "string"), ("Blocked", "string"), (_STAMP, "dateTime"),
    ), ("No",)),
    PageSpec("SalesLines", (
        ("Document_Type", "string"), ("Document_No", "string"), ("Line_No", "int"),
        ("Sell_to_Customer_No", "string"), ("Order_Date", "dateTime"), ("Status", "string"),
        ("Currency_Code", "string"), ("Type", "string"), ("No", "string"),
        ("Description", "string"), ("Quantity", "decimal"), ("Unit_Price", "decimal"),
        (_STAMP, "dateTime"),
    ), ("Document_No", "Line_No")),
    PageSpec("Item", (
        ("No", "string"), ("Description", "string"), ("Unit_Price", "decimal"),
        ("Inventory", "decimal"), ("Item_Category_Code", "string"), ("Vendor_No", "string"),
        ("Blocked", "boolean"), ("Base_Unit_of_Measure", "string"), (_STAMP, "dateTime"),
    ), ("No",)),
    PageSpec("ServiceItem", (
        ("No", "string"), ("Customer_No", "string"), ("Item_No", "string"),
        ("Serial_No", "string"), ("Installation_Date", "date"),
        ("Service_Interval_Days", "int"), ("Last_Service_Date", "date"), (_STAMP, "dateTime"),
    ), ("No",)),
    PageSpec("SalesCreditMemo", (
        ("No", "string"), ("Sell_to_Customer_No", "string"),
        ("External_Document_No", "string"), ("Amount", "decimal"),
        ("Currency_Code", "string"), ("Posting_Description", "string"),
        ("Document_Date", "date"), (_STAMP, "dateTime"),
    ), ("No",), number_series="CM"),
    PageSpec("SalesOrder", (
        ("No", "string"), ("Sell_to_Customer_No", "string"),
        ("External_Document_No", "string"), ("Item_No", "string"), ("Quantity", "decimal"),
        ("Unit_Price", "decimal"), ("Posting_Description", "string"),
        ("Document_Date", "date"), (_STAMP, "dateTime"),
    ), ("No",), number_series="SO"),
)


class PageError(Exception):
    """A NAV-style fault raised by a table operation; ``text`` is the faultstring."""

    def __init__(self, text: str, code: str = "a:Microsoft.Dynamics.Nav.Types.Exceptions") -> None:
        super().__init__(text)
        self.text = text
        self.code = code


def _sort_value(kind: FieldType | None, text: str) -> object:
    return int(text) if kind == "int" and text else text


def _parse(kind: FieldType | None, text: str) -> Any:
    """A value comparable within its type, for filters."""
    try:
        if kind in ("decimal", "int"):
            return Decimal(text)
        if kind == "dateTime":
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if kind == "date":
            return date.fromisoformat(text[:10])
    except (ValueError, InvalidOperation) as exc:
        raise PageError(f"The filter value {text!r} is not a valid {kind}.") from exc
    return text


def _matches(kind: FieldType | None, value: str | None, criteria: str) -> bool:
    """NAV filter syntax, the part adapters use: ``a|b`` alternatives, ``>=x``, ``>x``,
    ``<=x``, ``<x``, ``<>x``, ``x..y`` ranges and exact values."""
    return any(_matches_one(kind, value, alternative) for alternative in _alternatives(criteria))


def _alternatives(criteria: str) -> list[str]:
    """Split on ``|`` outside single quotes (NAV: ``'A|B'`` is one literal value)."""
    parts, current, quoted = [], "", False
    for char in criteria:
        if char == "'":
            quoted = not quoted
        if char == "|" and not quoted:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _matches_one(kind: FieldType | None, value: str | None, criteria: str) -> bool:
    if len(criteria) >= 2 and criteria[0] == criteria[-1] == "'":
        return (value or "") == criteria[1:-1].replace("''", "'")
    for op in (">=", "<=", "<>", ">", "<"):
        if criteria.startswith(op):
            if value is None or value == "":
                return op == "<>" and criteria[2:] != ""
            left, right = _parse(kind, value), _parse(kind, criteria[len(op):])
            return bool({">=": left >= right, "<=": left <= right, "<>": left != right,
                         ">": left > right, "<": left < right}[op])
    if ".." in criteria:
        low, _, high = criteria.partition("..")
        if value is None or value == "":
            return False
        parsed = _parse(kind, value)
        return ((not low or parsed >= _parse(kind, low))
                and (not high or parsed <= _parse(kind, high)))
    if kind in ("decimal", "int", "dateTime", "date") and value:
        return bool(_parse(kind, value) == _parse(kind, criteria))
    return (value or "") == criteria


@dataclass
class Table:
    """The records of one page, sorted by primary key, each with a version for its ``Key``."""

    spec: PageSpec
    _keys: list[tuple[object, ...]] = field(default_factory=list)
    _rows: dict[tuple[object, ...], Row] = field(default_factory=dict)
    _versions: dict[tuple[object, ...], int] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _counter: int = 0

    def pk(self, row: Row) -> tuple[object, ...]:
        return tuple(_sort_value(self.spec.field_type(name), row.get(name, ""))
                     for name in self.spec.primary_key)

    def key_of(self, pk: tuple[object, ...]) -> str:
        """An opaque record key holding primary key and version, like NAV's ``Key``."""
        raw = json.dumps([list(pk), self._versions[pk]], separators=(",", ":"))
        return f"{self._versions[pk]};{base64.urlsafe_b64encode(raw.encode()).decode()};"

    def decode_key(self, key: str) -> tuple[tuple[object, ...], int]:
        try:
            encoded = key.split(";")[1]
            pk, version = json.loads(base64.urlsafe_b64decode(encoded.encode()))
            return tuple(pk), int(version)
        except (IndexError, ValueError, TypeError) as exc:
            raise PageError(f"The bookmark or key {key!r} is not valid for page "
                            f"{self.spec.name}.") from exc

    def __len__(self) -> int:
        return len(self._keys)

    def replace(self, rows: Sequence[Row]) -> None:
        with self._lock:
            self._rows = {self.pk(row): dict(row) for row in rows}
            self._keys = sorted(self._rows)
            self._versions = dict.fromkeys(self._keys, 1)

    def rows(self) -> Iterator[tuple[str, Row]]:
        with self._lock:
            return iter([(self.key_of(pk), self._rows[pk]) for pk in self._keys])

    def read(self, values: dict[str, str]) -> tuple[str, Row] | None:
        pk = self.pk(values)
        with self._lock:
            row = self._rows.get(pk)
            return (self.key_of(pk), dict(row)) if row is not None else None

    def read_multiple(self, filters: Sequence[tuple[str, str]], bookmark: str | None,
                      size: int) -> list[tuple[str, Row]]:
        """NAV's ReadMultiple: the rows after ``bookmark`` matching every filter, at most
        ``size`` of them; ``size`` 0 reads the complete set, a negative size reads backwards
        (MS docs, "ReadMultiple Operation"). A filter with an empty criteria filters nothing
        (NAV's filter convention, assumed for SOAP: no published page states it) — a client
        states "every record" with one, since the WSDL requires at least one filter."""
        for name, _ in filters:
            if self.spec.field_type(name) is None:
                raise PageError(f"The field {name!r} of the page {self.spec.name} does not exist.")
        filters = [(name, criteria) for name, criteria in filters if criteria != ""]
        with self._lock:
            keys: Sequence[tuple[object, ...]] = self._keys
            start, limit = 0, abs(size) or len(keys)
            if size < 0:
                end = bisect.bisect_left(keys, self.decode_key(bookmark)[0]) if bookmark \
                    else len(keys)
                keys = keys[:end][::-1]
            elif bookmark:
                start = bisect.bisect_right(keys, self.decode_key(bookmark)[0])
            found: list[tuple[str, Row]] = []
            for pk in keys[start:] if filters else keys[start:start + limit]:
                row = self._rows[pk]
                if all(_matches(self.spec.field_type(name), row.get(name), criteria)
                       for name, criteria in filters):
                    found.append((self.key_of(pk), dict(row)))
                    if len(found) >= limit:
                        break
            return found

    def is_updated(self, key: str) -> bool:
        """NAV's IsUpdated: has the record changed since ``key`` was read?"""
        pk, version = self.decode_key(key)
        with self._lock:
            if pk not in self._rows:
                raise PageError(f"{self.spec.name} {pk} does not exist.")
            return self._versions[pk] != version

    def delete(self, key: str) -> bool:
        """NAV's Delete by ``Key``: a stale key faults like Update's."""
        pk, version = self.decode_key(key)
        with self._lock:
            self._check_current(pk, version)
            del self._rows[pk], self._versions[pk]
            self._keys.remove(pk)
            return True

    def _check_current(self, pk: tuple[object, ...], version: int) -> None:
        """Update's and Delete's check (under the lock): the record exists and ``Key`` names
        its current version."""
        if pk not in self._rows:
            raise PageError(f"{self.spec.name} {pk} does not exist.")
        if self._versions[pk] != version:
            # The fault text of NAV's Update operation (MSDN "Update Operation"): "Other user
            # has modified [record name]." — adapters recognise concurrency by it.
            raise PageError(f"Other user has modified \"{self.spec.name}\" "
                            f"\"{','.join(map(str, pk))}\".")

    def touch(self, pk: tuple[object, ...], values: dict[str, str] | None = None) -> None:
        """Another user modifies the record: new version (and new values)."""
        with self._lock:
            if values:
                self._rows[pk].update(values)
            self._versions[pk] += 1

    def update(self, key: str, values: dict[str, str], now: datetime) -> tuple[str, Row]:
        pk, version = self.decode_key(key)
        with self._lock:
            self._check_current(pk, version)
            row = self._rows[pk]
            row.update({k: v for k, v in values.items() if k not in self.spec.primary_key})
            if self.spec.modified_field:
                row[self.spec.modified_field] = now.isoformat()
            self._versions[pk] += 1
            return self.key_of(pk), dict(row)

    def update_many(self, items: Sequence[tuple[str, dict[str, str]]],
                    now: datetime) -> list[tuple[str, Row]]:
        """NAV's UpdateMultiple: one transaction — a stale or missing key fails all."""
        with self._lock:
            for key, _ in items:
                pk, version = self.decode_key(key)
                if pk not in self._rows:
                    raise PageError(f"{self.spec.name} {pk} does not exist.")
                if self._versions[pk] != version:
                    raise PageError(f"Other user has modified \"{self.spec.name}\" "
                                    f"\"{','.join(map(str, pk))}\".")
            return [self.update(key, values, now) for key, values in items]

    def create(self, values: dict[str, str], now: datetime) -> tuple[str, Row]:
        with self._lock:
            row = dict(values)
            if self.spec.number_series and not row.get(self.spec.primary_key[0]):
                self._counter += 1
                row[self.spec.primary_key[0]] = f"{self.spec.number_series}{self._counter:06d}"
            if self.spec.modified_field:
                row[self.spec.modified_field] = now.isoformat()
            pk = self.pk(row)
            if pk in self._rows:
                raise PageError(f"The {self.spec.name} already exists. Identification fields "
                                f"and values: {self.spec.primary_key[0]}='{pk[0]}'")
            self._rows[pk] = row
            self._versions[pk] = 1
            bisect.insort(self._keys, pk)
            return self.key_of(pk), dict(row)

    def create_many(self, items: Sequence[dict[str, str]], now: datetime) -> list[tuple[str, Row]]:
        """NAV's CreateMultiple: one transaction — an existing record fails all."""
        with self._lock:
            created: list[tuple[object, ...]] = []
            try:
                return [self._created(self.create(values, now), created) for values in items]
            except PageError:
                for pk in created:  # roll back the ones created before the failure
                    del self._rows[pk], self._versions[pk]
                    self._keys.remove(pk)
                raise

    def _created(self, result: tuple[str, Row], created: list[tuple[object, ...]],
                 ) -> tuple[str, Row]:
        created.append(self.pk(result[1]))
        return result
