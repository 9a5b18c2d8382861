"""Cursor semantics of the files connector: byte-offset paging, checkpoints over appended and
rewritten files, the truncation guard, and reading big files without loading them."""

from __future__ import annotations

import json
import logging
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from shoploop.hooks import (
    ConnectorError,
    Cursor,
    Customer,
    Page,
    RemoteValidationError,
    UnreachableError,
)
from shoploop.plugins.files import FilesConfig, FilesConnector, write_stream


def customer(n: int, updated: str | None = "2025-01-01T00:00:00+00:00", **extra: Any) -> str:
    return json.dumps({"id": f"C{n:04d}", "email": f"c{n}@example.com", "updated_at": updated,
                       **extra}) + "\n"


def connector(directory: Path, page_size: int = 10, **config: Any) -> FilesConnector:
    return FilesConnector("shop-export", FilesConfig(path=directory, page_size=page_size,
                                                     **config))


def read_from(conn: FilesConnector, cursor: Cursor | None = None) -> tuple[list[str], Cursor]:
    """Every page from ``cursor`` on; the ids and the final cursor (after a JSON round trip)."""
    ids: list[str] = []
    while True:
        page: Page[Customer] = conn.read_customers(cursor)
        ids.extend(c.id for c in page.items)
        cursor = Cursor.model_validate_json(page.cursor.model_dump_json())
        if not page.has_more:
            return ids, cursor


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "customers.jsonl").write_text("".join(customer(n) for n in range(25)))
    return tmp_path


def test_pages_hold_page_size_records_and_has_more_is_exact(data: Path) -> None:
    conn = connector(data, page_size=5)  # 25 records: the 5th page is full and the last
    pages = []
    page = conn.read_customers()
    pages.append(page)
    while page.has_more:
        page = conn.read_customers(page.cursor)
        pages.append(page)
    assert [len(p.items) for p in pages] == [5, 5, 5, 5, 5]
    assert [p.has_more for p in pages] == [True] * 4 + [False]
    assert pages[1].cursor.position["offset"] == len(customer(0)) * 10  # a byte offset


def test_checkpoint_of_an_unchanged_file_returns_nothing(data: Path) -> None:
    conn = connector(data)
    _, checkpoint = read_from(conn)
    ids, again = read_from(conn, checkpoint)
    assert ids == []
    assert again == checkpoint


def test_appended_records_are_new_whatever_their_timestamp(data: Path) -> None:
    conn = connector(data)
    _, checkpoint = read_from(conn)
    with (data / "customers.jsonl").open("a") as out:
        out.write(customer(100, updated="2000-01-01T00:00:00+00:00") + customer(101, None))
    ids, _ = read_from(connector(data), checkpoint)
    assert ids == ["C0100", "C0101"]


def test_rewritten_file_returns_records_updated_after_the_watermark(
    data: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    _, checkpoint = read_from(connector(data))
    lines = [customer(n) for n in range(25)]
    lines[3] = customer(3, "2025-02-01T00:00:00+00:00")  # updated in place
    lines.insert(0, customer(99, "2025-02-02T00:00:00+00:00"))  # new, anywhere
    (data / "customers.jsonl").write_text("".join(lines))
    with caplog.at_level(logging.INFO, logger="shoploop.plugins.files"):
        ids, after = read_from(connector(data), checkpoint)
    assert ids == ["C0099", "C0003"]
    assert "rewritten since the last checkpoint" in caplog.text
    assert read_from(connector(data), after)[0] == []


def test_records_without_timestamp_are_new_past_the_old_row_count(tmp_path: Path) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text("".join(customer(n, None) for n in range(5)))
    _, checkpoint = read_from(connector(tmp_path))
    path.write_text("".join(customer(n, None, first_name="X") for n in range(7)))  # rewritten
    assert read_from(connector(tmp_path), checkpoint)[0] == ["C0005", "C0006"]


def test_truncated_file_mid_read_restarts_the_pass_and_loses_nothing(
    data: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    conn = connector(data)
    first = conn.read_customers()
    assert first.has_more
    (data / "customers.jsonl").write_text("".join(customer(n) for n in range(200, 212)))
    with caplog.at_level(logging.WARNING, logger="shoploop.plugins.files"):
        ids, _ = read_from(connector(data), first.cursor)
    assert ids == [f"C{n:04d}" for n in range(200, 212)]
    assert "truncated or replaced in the middle of a read; restarting" in caplog.text


def test_replaced_file_of_the_same_size_is_detected(data: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    first = connector(data).read_customers()
    path = data / "customers.jsonl"
    path.write_text(path.read_text().replace("c0@", "x0@"))  # same length, other content
    with caplog.at_level(logging.WARNING, logger="shoploop.plugins.files"):
        ids, _ = read_from(connector(data), first.cursor)
    assert ids[0] == "C0000" and len(ids) == 25
    assert "restarting this pass" in caplog.text


def test_a_missing_stream_file_has_no_records_until_it_appears(tmp_path: Path) -> None:
    ids, checkpoint = read_from(connector(tmp_path))
    assert ids == []
    write_stream(tmp_path, "customers", [Customer(id="C-1")], format="csv")
    assert read_from(connector(tmp_path), checkpoint)[0] == ["C-1"]


def test_a_file_missing_for_a_while_keeps_the_checkpoint(data: Path) -> None:
    _, checkpoint = read_from(connector(data))
    content = (data / "customers.jsonl").read_text()
    (data / "customers.jsonl").unlink()  # an export job deletes, then writes anew
    ids, kept = read_from(connector(data), checkpoint)
    assert (ids, kept) == ([], checkpoint)
    (data / "customers.jsonl").write_text(content + customer(30))
    assert read_from(connector(data), kept)[0] == ["C0030"]


def test_switching_the_format_rescans_with_the_watermark(data: Path) -> None:
    _, checkpoint = read_from(connector(data))
    records = [Customer.model_validate_json(line) for line in
               (data / "customers.jsonl").read_text().splitlines()]
    records[7].updated_at = records[7].updated_at.replace(year=2026)  # type: ignore[union-attr]
    (data / "customers.jsonl").unlink()
    write_stream(data, "customers", records, format="csv")
    assert read_from(connector(data), checkpoint)[0] == ["C0007"]


def test_malformed_line_names_file_and_line_and_resumes_after_the_fix(data: Path) -> None:
    path = data / "customers.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    lines[12] = '{"id": "C0012", "email": \n'
    path.write_text("".join(lines))
    conn = connector(data)
    first = conn.read_customers()
    second = conn.read_customers(first.cursor)  # stops before the bad line
    assert [len(first.items), len(second.items), second.has_more] == [10, 2, True]
    with pytest.raises(RemoteValidationError, match=r"customers.jsonl, line 13: invalid JSON"):
        conn.read_customers(second.cursor)
    lines[12] = customer(12)
    path.write_text("".join(lines))
    ids, _ = read_from(connector(data), second.cursor)
    assert ids == [f"C{n:04d}" for n in range(12, 25)]


def test_a_cut_off_last_line_is_reported_but_a_missing_final_newline_is_fine(
    tmp_path: Path,
) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text(customer(1) + customer(2).rstrip("\n"))
    assert read_from(connector(tmp_path))[0] == ["C0001", "C0002"]
    path.write_text(customer(1) + customer(2)[:20])
    with pytest.raises(RemoteValidationError, match=r"line 2: invalid JSON.*cut off"):
        read_from(connector(tmp_path))


def test_byte_order_marks_are_skipped(tmp_path: Path) -> None:
    (tmp_path / "customers.jsonl").write_bytes(b"\xef\xbb\xbf" + customer(1).encode())
    (tmp_path / "products.csv").write_bytes(b"\xef\xbb\xbfid,name,price\r\nP1,Drill,9.90\r\n")
    conn = connector(tmp_path)
    assert read_from(conn)[0] == ["C0001"]
    assert [p.id for p in conn.read_products().items] == ["P1"]


def test_foreign_cursors_are_refused_with_a_domain_error(data: Path) -> None:
    conn = connector(data)
    with pytest.raises(ConnectorError, match="cursor of stream 'orders'"):
        conn.read_customers(Cursor(stream="orders"))
    with pytest.raises(ConnectorError, match="is not a files cursor"):
        conn.read_customers(Cursor(stream="customers", position={"page": 3}))


def test_missing_directory_is_unreachable_and_named(tmp_path: Path) -> None:
    conn = connector(tmp_path / "export")
    with pytest.raises(UnreachableError) as caught:
        conn.read_orders()
    assert (caught.value.connection, caught.value.operation) == ("shop-export", "read_orders")
    assert str(tmp_path / "export") in str(caught.value)


def test_both_formats_present_is_an_explicit_error(data: Path) -> None:
    write_stream(data, "customers", [Customer(id="C-1")], format="csv")
    with pytest.raises(ConnectorError, match=r"both customers\.jsonl and customers\.csv"):
        connector(data).read_customers()
    assert [c.id for c in connector(data, format="csv").read_customers().items] == ["C-1"]


def test_big_files_are_streamed_not_loaded(tmp_path: Path) -> None:
    path = tmp_path / "customers.jsonl"
    padding = "x" * 450
    with path.open("w") as out:
        for n in range(20_000):  # about 10 MB
            out.write(customer(n, first_name=padding))
    conn = connector(tmp_path, page_size=100)
    first = conn.read_customers()
    near_end = None
    for size in (10_000, 9_990):  # skip ahead (untraced) to the last 10 records
        near_end = connector(tmp_path, page_size=size).read_customers(near_end).cursor
    tracemalloc.start()
    try:
        middle = conn.read_customers(first.cursor)
        last = conn.read_customers(near_end)  # ends the pass: hashes the file for the checkpoint
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert middle.items[0].id == "C0100"
    assert [c.id for c in last.items] == [f"C{n:04d}" for n in range(19_990, 20_000)]
    assert not last.has_more
    assert peak < 2_000_000, f"reading two pages of a 10 MB file used {peak} bytes"
