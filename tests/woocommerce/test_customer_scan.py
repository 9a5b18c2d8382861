"""The customers scan: digests outside the cursor (``record_digests`` in the store during
imports), O(page) cursors, and crash safety — a page the caller did not take is delivered
again, a change is never lost, an unchanged store delivers nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoploop.hooks import Cursor, MemoryRecordDigests, UnreachableError
from shoploop.jobs import mirror_stream
from shoploop.plugins.woocommerce import WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator
from shoploop.store import Store, load_cursor, load_record_digests, mirrored_customers

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

CUSTOMERS = [{"id": f"C{i}", "email": f"c{i}@example.com", "first_name": f"Name {i}"}
             for i in range(23)]


def rename(emulator: WooCommerceEmulator, number: int, name: str) -> None:
    emulator.app._update("customers", {"id": number, "first_name": name})


def names(store: Store, connection: str) -> dict[str, str | None]:
    with store.session() as session:
        return {c.id: c.first_name for c in mirrored_customers(session, connection)}


def test_import_keeps_digests_in_the_store_and_a_small_cursor(
        store: Store, start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator, page_size=5)
    first = mirror_stream(connector, store, connection="woo", stream="customers")
    assert (first.read, first.inserted, first.pages) == (23, 23, 5)
    with store.session() as session:
        cursor = load_cursor(session, "woo", "customers")
        assert cursor is not None and set(cursor.position) == {"page", "compare", "pending"}
        # Saved: every page the mirror committed; the last page's when its cursor comes back.
        digests = load_record_digests(session, "woo", "customers", [str(i) for i in range(1, 24)])
    assert sorted(map(int, digests)) == list(range(1, 21))
    assert sorted(map(int, cursor.position["pending"])) == [21, 22, 23]

    rename(emulator, 4, "Changed 4")
    rename(emulator, 22, "Changed 22")
    second = mirror_stream(woo_connect(emulator, page_size=5), store, connection="woo",
                           stream="customers")
    assert (second.read, second.updated, second.inserted) == (2, 2, 0)
    assert names(store, "woo")["4"] == "Changed 4" and names(store, "woo")["22"] == "Changed 22"
    third = mirror_stream(woo_connect(emulator, page_size=5), store, connection="woo",
                          stream="customers")
    assert third.read == 0  # nothing changed: nothing delivered


class Dying(WooCommerceConnector):
    """Dies on its ``die_on``-th read call, once, after the page was read from WooCommerce and
    before the caller could commit it (the process dying mid-page)."""

    die_on: int | None = None
    calls = 0

    def read_customers(self, cursor: Cursor | None = None) -> Any:
        page = super().read_customers(cursor)
        self.calls += 1
        if self.calls == self.die_on:
            raise UnreachableError("gone", connection=self.name, operation="read_customers")
        return page


def test_a_crash_mid_scan_loses_no_change(store: Store, start_emulator: Start,
                                          woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    mirror_stream(woo_connect(emulator, page_size=5), store, connection="woo",
                  stream="customers")
    for number in (2, 7, 12, 17, 23):
        rename(emulator, number, f"Changed {number}")
    base = woo_connect(emulator, page_size=5)
    dying = Dying(base.name, base.config, environ=base._environ, retry=base._retry)
    dying.die_on = 3  # pages 1 and 2 (customers 2 and 7) committed, page 3 read: dies
    with pytest.raises(UnreachableError):
        mirror_stream(dying, store, connection="woo", stream="customers")
    assert names(store, "woo")["7"] == "Changed 7" and names(store, "woo")["12"] == "Name 11"
    resumed = mirror_stream(dying, store, connection="woo", stream="customers")
    assert (resumed.read, resumed.updated) == (3, 3)  # 12, 17, 23: none lost, none twice
    assert {n: names(store, "woo")[str(n)] for n in (2, 7, 12, 17, 23)} == {
        n: f"Changed {n}" for n in (2, 7, 12, 17, 23)}
    assert mirror_stream(dying, store, connection="woo", stream="customers").read == 0


def test_a_cursor_from_before_the_upgrade_reads_as_a_full_scan(
        start_emulator: Start, woo_connect: Connect) -> None:
    """Cursors stored by earlier versions carry a hash per customer: read as a full scan from
    their page (everything from there delivered once), then settled — nothing lost."""
    emulator = start_emulator(customers=CUSTOMERS[:12])
    legacy = Cursor(stream="customers", position={
        "page": 2, "last_id": 5, "hashes": {str(n): "0" * 12 for n in range(1, 13)}})
    connector = woo_connect(emulator, page_size=5)
    delivered, checkpoint = _read_all(connector, legacy)
    assert [c.id for c in delivered] == [str(n) for n in range(6, 13)]
    assert "hashes" not in checkpoint.position and checkpoint.position["compare"] is True
    rename(emulator, 8, "Changed 8")
    # Customers 1-5 were never delivered under digests: they come once, with the change.
    again, checkpoint = _read_all(connector, checkpoint)
    assert [c.id for c in again] == ["1", "2", "3", "4", "5", "8"]
    assert _read_all(connector, checkpoint)[0] == []


def test_the_scan_asks_only_for_the_fields_it_maps(start_emulator: Start,
                                                   woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS[:3])
    connector = woo_connect(emulator)
    answer = connector.client.get("customers", {"_fields": "id,email", "role": "all"},
                                  operation="test")
    assert answer.data == [{"id": n, "email": f"c{n - 1}@example.com"} for n in (1, 2, 3)]
    full = connector.client.get("customers", {"role": "all"}, operation="test").data[0]
    linked = connector.client.get("customers", {"_fields": "id,_links"}, operation="test")
    assert linked.data[0] == {"id": 1, "_links": full["_links"]}
    customers, _ = _read_all(connector, None)
    assert [(c.id, c.email, c.first_name) for c in customers] == [
        ("1", "c0@example.com", "Name 0"), ("2", "c1@example.com", "Name 1"),
        ("3", "c2@example.com", "Name 2")]


def _read_all(connector: WooCommerceConnector, cursor: Cursor | None) -> tuple[list[Any], Cursor]:
    items: list[Any] = []
    while True:
        page = connector.read_customers(cursor)
        items += page.items
        cursor = page.cursor
        if not page.has_more:
            return items, cursor


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.tuples(
    st.lists(st.integers(1, 14), max_size=5),  # customers renamed before the scan
    st.integers(0, 4),  # pages the caller takes before it "crashes" (0: it takes all)
    st.lists(st.integers(1, 14), max_size=3)),  # renamed while the scan runs
    min_size=1, max_size=4),
    page_size=st.integers(2, 6))
def test_every_change_is_delivered_whatever_the_crashes(
        rounds: list[Any], page_size: int, woo_connect: Connect) -> None:
    """A caller that drops pages (dies before it took them) resumes from the last cursor it
    took; the digests make each page the caller did take final. Invariant: after a scan that
    was not cut short, the caller holds every customer's current version."""
    emulator = WooCommerceEmulator.from_records(customers=CUSTOMERS[:14]).start()
    try:
        digests = MemoryRecordDigests()
        held: dict[str, str | None] = {}  # what the caller took: customer id → first name
        cursor: Cursor | None = None
        version = 0

        def scan(stop_after: int, during: list[int]) -> None:
            nonlocal cursor, version
            connector = woo_connect(emulator, page_size=page_size)  # a new process each time
            connector.use_record_digests(digests)
            taken = 0
            while True:
                page = connector.read_customers(cursor)
                if stop_after and taken == stop_after:
                    return  # crashed: this page was never taken, its cursor never saved
                held.update((c.id, c.first_name) for c in page.items)
                cursor, taken = page.cursor, taken + 1
                if taken == 1:
                    for number in during:
                        version += 1
                        rename(emulator, number, f"v{version}")
                if not page.has_more:
                    return

        for before, stop_after, during in [([], 0, []), *rounds]:
            for number in before:
                version += 1
                rename(emulator, number, f"v{version}")
            scan(stop_after, during)
        scan(0, [])  # a scan that runs to its end (and one more: changes during the last)
        scan(0, [])
        current = {str(n): r["first_name"] for n, r in emulator.data.customers.items()}
        assert held == current
        before_settled = dict(held)
        connector = woo_connect(emulator, page_size=page_size)
        connector.use_record_digests(digests)
        assert _read_all(connector, cursor)[0] == [] and held == before_settled
    finally:
        emulator.stop()
