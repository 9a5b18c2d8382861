"""The CSV shape holds every field of every stream (hypothesis), reads real-world exports, and
reports what it cannot read with file and line."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shoploop.hooks import (
    Address,
    ConnectorError,
    Customer,
    InstalledEquipment,
    LineItem,
    Order,
    Product,
    RemoteValidationError,
)
from shoploop.plugins.files import FilesConfig, FilesConnector, write_stream

# -- strategies: everything the CSV shape promises to hold -------------------------------------
# Any text, whitespace included; where optional, non-empty, since an empty cell means "no
# value" (documented in docs/connectors/files.md). List items cannot contain the separator.

text = st.text(min_size=1, max_size=12)
optional_text = st.none() | text
items = st.lists(text.filter(lambda t: ";" not in t), max_size=3)
stamps = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1),
                      timezones=st.none() | st.sampled_from(
                          [UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))]))
money = st.decimals(min_value=0, max_value=10**7, places=2)
attribute_values = (st.none() | st.booleans() | st.integers() | text | st.just("")
                    | st.floats(allow_nan=False, allow_infinity=False) | st.lists(text, max_size=3)
                    | st.sampled_from(["42", "true", "null", "[]", '"quoted"', "NaN", "{}"]))
attributes = st.dictionaries(text, attribute_values, max_size=4)
# Valid addresses only: an invalid one is left out on import (test_limits.py). The model
# lower-cases e-mails, so the generated ones are lower case already.
emails = st.emails().map(str.lower)


@st.composite
def addresses(draw: st.DrawFn) -> list[Address]:
    kinds = draw(st.lists(st.sampled_from(["billing", "shipping", "other"]), unique=True))
    result = []
    for kind in ("billing", "shipping", "other"):  # the order the reader produces
        if kind in kinds:
            fields = draw(st.fixed_dictionaries({}, optional={
                name: text for name in ("company", "line1", "line2", "postal_code", "city",
                                        "country")}).filter(bool))
            result.append(Address(kind=kind, **fields))
    return result


customers = st.builds(
    Customer, id=text,
    email=st.none() | emails,
    first_name=optional_text, last_name=optional_text,
    company=optional_text, phone=optional_text, kind=st.sampled_from([None, "b2b", "b2c"]),
    customer_number=optional_text, vat_id=optional_text,
    accepts_marketing=st.sampled_from([None, True, False]), addresses=addresses(), tags=items,
    attributes=attributes, created_at=st.none() | stamps, updated_at=st.none() | stamps)
line_items = st.builds(LineItem, product_id=optional_text, sku=optional_text,
                       name=st.just("") | text, quantity=st.integers(0, 10**6), unit_price=money)
orders = st.builds(
    Order, id=text, number=optional_text, customer_id=optional_text, email=st.none() | emails,
    placed_at=stamps, updated_at=st.none() | stamps, currency=text,
    status=st.sampled_from(["pending", "paid", "fulfilled", "cancelled", "refunded"]),
    channel=text, lines=st.lists(line_items, max_size=3), discount_codes=items,
    refunded_total=money, attributes=attributes)
products = st.builds(
    Product, id=text, sku=optional_text, name=text, price=money, currency=text,
    compare_at_price=st.none() | money, stock=st.none() | st.integers(-10**6, 10**6),
    status=st.sampled_from(["active", "draft", "archived"]), category=optional_text,
    tags=items, vendor=optional_text, attributes=attributes, updated_at=st.none() | stamps)
equipment = st.builds(
    InstalledEquipment, id=text, customer_id=text, product_id=text, serial_number=optional_text,
    installed_at=st.dates(date(1990, 1, 1), date(2100, 1, 1)),
    service_interval_days=st.none() | st.integers(1, 10_000),
    last_service_at=st.none() | st.dates(date(1990, 1, 1), date(2100, 1, 1)),
    updated_at=st.none() | stamps)


def unique(records: st.SearchStrategy[Any]) -> st.SearchStrategy[list[Any]]:
    return st.lists(records, max_size=7, unique_by=lambda record: record.id)


def read_all(directory: Path, stream: str, fmt: str, page_size: int = 2) -> list[BaseModel]:
    config = FilesConfig.model_validate({"path": directory, "format": fmt,
                                         "page_size": page_size})
    connector = FilesConnector("roundtrip", config)
    read = getattr(connector, f"read_{stream}")
    page = read(None)
    records = list(page.items)
    while page.has_more:
        page = read(page.cursor)
        records.extend(page.items)
    return records


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
@pytest.mark.parametrize(("stream", "strategy"), [
    ("customers", customers), ("orders", orders), ("products", products),
    ("installed_base", equipment),
])
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_field_survives_a_round_trip(stream: str, strategy: Any, fmt: str,
                                           data: st.DataObject) -> None:
    records = data.draw(unique(strategy), label=stream)
    with tempfile.TemporaryDirectory() as tmp:
        write_stream(Path(tmp), stream, records, format=fmt)  # type: ignore[arg-type]
        read = read_all(Path(tmp), stream, fmt)
    assert [r.model_dump(mode="json") for r in read] == \
        [r.model_dump(mode="json") for r in records]


def test_an_erp_export_with_semicolons_and_cp1252(tmp_path: Path) -> None:
    # What a German ERP typically writes: ';' separated, cp1252, CRLF, quoted line breaks.
    (tmp_path / "orders.csv").write_bytes((
        "id;placed_at;customer_id;status;channel;attr.Kostenstelle;line.sku;line.name;"
        "line.quantity;line.unit_price\r\n"
        "A-1;2025-01-02T10:00:00+01:00;K-1;paid;erp;4711;S-1;Bohrer;2;19.90\r\n"
        "A-1;;;;;;S-2;\"Säge\r\n(groß)\";1;99.00\r\n"
        "A-2;2025-01-03T09:00:00+01:00;;pending;phone;;;;;\r\n"
    ).encode("cp1252"))
    config = FilesConfig(path=tmp_path, csv_delimiter=";", encoding="cp1252")
    page = FilesConnector("erp", config).read_orders()
    first, second = page.items
    assert (first.id, first.customer_id, first.channel) == ("A-1", "K-1", "erp")
    assert first.attributes == {"Kostenstelle": 4711}
    assert [(line.sku, line.name, line.quantity) for line in first.lines] == [
        ("S-1", "Bohrer", 2), ("S-2", "Säge\r\n(groß)", 1)]
    assert first.total == Decimal("138.80")
    assert (second.id, second.customer_id, second.lines) == ("A-2", None, [])


def test_customers_csv_as_documented(tmp_path: Path) -> None:
    # The example of docs/connectors/files.md.
    (tmp_path / "customers.csv").write_text(
        "id,email,kind,tags,billing.city,billing.country,attr.industry,attr.credit_limit,"
        "attr.segments,updated_at\n"
        'C-1,anna@example.com,b2b,vip;newsletter,Berlin,DE,machinery,5000,"[""rfm-high""]",'
        "2025-03-01T12:00:00Z\n", encoding="utf-8")
    [customer] = FilesConnector("docs", FilesConfig(path=tmp_path)).read_customers().items
    assert customer == Customer(
        id="C-1", email="anna@example.com", kind="b2b", tags=["vip", "newsletter"],
        addresses=[Address(kind="billing", city="Berlin", country="DE")],
        attributes={"industry": "machinery", "credit_limit": 5000, "segments": ["rfm-high"]},
        updated_at=datetime(2025, 3, 1, 12, tzinfo=UTC))


@pytest.mark.parametrize(("content", "line", "reason"), [
    ("id,email\nC-1,a@example.com\nC-2\n", 3, "1 fields, but the header has 2"),
    ("id,kind\nC-1,b2b\nC-2,wholesale\n", 3, "not a valid Customer: kind: Input should be"),
    ("id,email\n,a@example.com\n", 2, "the 'id' cell is empty"),
    ("id,accepts_marketing\nC-1, \n", 2,  # cells are not trimmed: " " is not a boolean
     "not a valid Customer: accepts_marketing: Input should be a valid boolean"),
    ('id,email\nC-1,"unterminated\n', 2, "invalid CSV"),
])
def test_unreadable_csv_names_file_and_line(tmp_path: Path, content: str, line: int,
                                            reason: str) -> None:
    (tmp_path / "customers.csv").write_text(content, encoding="utf-8")
    connector = FilesConnector("crm", FilesConfig(path=tmp_path))
    delivered = []
    with pytest.raises(RemoteValidationError) as caught:
        page = connector.read_customers()
        delivered.extend(page.items)
        while page.has_more:  # records before the bad line come first, on their own page
            page = connector.read_customers(page.cursor)
            delivered.extend(page.items)
    assert f"customers.csv, line {line}: {reason}" in str(caught.value)
    assert [c.id for c in delivered] == (["C-1"] if line == 3 else [])
    assert (caught.value.connection, caught.value.operation) == ("crm", "read_customers")


@pytest.mark.parametrize(("header", "reason"), [
    ("id,nickname", "unknown column(s) 'nickname'; to import it as an attribute, name it "
                    "attr.nickname"),
    ("id,email,email", "duplicate column(s) 'email'"),
    ("email,kind", "the header has no 'id' column"),
])
def test_a_bad_header_says_fix_the_header_not_remove_line_1(tmp_path: Path, header: str,
                                                              reason: str) -> None:
    (tmp_path / "customers.csv").write_text(f"{header}\nC-1,a@example.com,b2b\n",
                                            encoding="utf-8")
    with pytest.raises(ConnectorError) as caught:
        FilesConnector("crm", FilesConfig(path=tmp_path)).read_customers()
    error = caught.value
    assert not isinstance(error, RemoteValidationError)  # not one record's fault
    assert error.error_code == "file_header"
    assert f"customers.csv, line 1: {reason} (header)" in error.message
    assert "fix the header row" in error.remedy and "remove" not in error.remedy


@pytest.mark.parametrize("stem", ["customers.csv", "customers.jsonl"])
def test_a_cp1252_file_read_as_utf8_points_at_the_encoding_key(tmp_path: Path,
                                                               stem: str) -> None:
    content = ("id,email,first_name\nC-1,a@example.com,Jürgen\n" if stem.endswith(".csv") else
               '{"id": "C-1", "email": "a@example.com", "first_name": "Jürgen"}\n')
    (tmp_path / stem).write_bytes(content.encode("cp1252"))
    with pytest.raises(ConnectorError) as caught:
        FilesConnector("erp_export", FilesConfig(path=tmp_path)).read_customers()
    error = caught.value
    assert not isinstance(error, RemoteValidationError)
    assert error.error_code == "file_encoding"
    line = 2 if stem.endswith(".csv") else 1
    assert f"{stem}, line {line}: not valid utf-8" in error.message
    assert "set `encoding` in [connections.erp_export]" in error.remedy
    assert '"cp1252"' in error.remedy and f"remove line {line}" not in error.remedy
    # ... and with the encoding set, the same file reads.
    config = FilesConfig(path=tmp_path, encoding="cp1252")
    [customer] = FilesConnector("erp_export", config).read_customers().items
    assert customer.first_name == "Jürgen"


def test_csv_writer_refuses_what_csv_cannot_hold(tmp_path: Path) -> None:
    twice = Customer(id="C-1", addresses=[Address(kind="billing", city="A"),
                                          Address(kind="billing", city="B")])
    with pytest.raises(ValueError, match="two billing addresses"):
        write_stream(tmp_path, "customers", [twice], format="csv")
    with pytest.raises(ValueError, match="contains ';'"):
        write_stream(tmp_path, "customers", [Customer(id="C-1", tags=["a;b"])], format="csv")
