"""The mirror job: all pages, resumable after a crash, same end state, nothing twice."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

import shoploop.jobs._mirror as mirror_module
from shoploop._interrupt import StopToken
from shoploop.hooks import (
    ConnectorError,
    Cursor,
    Customer,
    LineItem,
    NotSupportedError,
    Order,
    Page,
    UnreachableError,
)
from shoploop.jobs import MirrorResult, mirror_stream
from shoploop.store import (
    FAILED,
    SUCCEEDED,
    CustomerRecord,
    Store,
    counts,
    get_run,
    load_cursor,
    mirrored_customers,
    mirrored_orders,
    recent_runs,
)

T0 = datetime(2025, 1, 1, tzinfo=UTC)


class ListConnector:
    """Serves lists page by page with an offset cursor, like a real incremental API.

    ``fail_on_page=k`` makes the k-th read call (1-based) raise ``UnreachableError``, once;
    ``reads`` counts the calls, ``delivered`` every record handed out.
    """

    def __init__(self, name: str, *, customers: list[Customer] | None = None,
                 orders: list[Order] | None = None, page_size: int = 5,
                 fail_on_page: int | None = None, read_ahead_safe: bool = False) -> None:
        self.name = name
        self.read_ahead_safe = read_ahead_safe
        self.page_size = page_size
        self.records: dict[str, list[Any]] = {"customers": customers or [],
                                              "orders": orders or []}
        self.fail_on_page = fail_on_page
        self.reads = 0
        self.delivered: list[str] = []

    def _read(self, stream: str, cursor: Cursor | None) -> Page[Any]:
        self.reads += 1
        if self.reads == self.fail_on_page:
            self.fail_on_page = None
            raise UnreachableError("connection reset by peer", connection=self.name,
                                   operation=f"read_{stream}")
        offset = int(cursor.position["offset"]) if cursor else 0
        items = self.records[stream][offset:offset + self.page_size]
        self.delivered.extend(item.id for item in items)
        end = offset + len(items)
        return Page(items=items, cursor=Cursor(stream=stream, position={"offset": end}),
                    has_more=end < len(self.records[stream]))

    def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
        return self._read("customers", cursor)

    def read_orders(self, cursor: Cursor | None = None) -> Page[Order]:
        return self._read("orders", cursor)


def make_customers(n: int) -> list[Customer]:
    return [Customer(id=f"C{i:03}", email=f"c{i}@example.com", kind="b2c",
                     attributes={"n": i}, updated_at=T0 + timedelta(days=i)) for i in range(n)]


def make_orders(n: int) -> list[Order]:
    return [Order(id=f"O{i}", customer_id=f"C{i % 5:03}", placed_at=T0 + timedelta(hours=i),
                  lines=[LineItem(product_id=f"P{j}", quantity=1, unit_price=Decimal("2.50"))
                         for j in range(i % 4 + 1)]) for i in range(n)]


def end_state(store: Store, connection: str) -> dict[str, Any]:
    with store.session() as session:
        cursor = load_cursor(session, connection, "customers")
        rows = session.execute(
            select(CustomerRecord.external_id, func.count()).where(
                CustomerRecord.connection == connection).group_by(CustomerRecord.external_id)
        ).all()
        return {
            "customers": sorted(c.model_dump_json() for c in
                                mirrored_customers(session, connection)),
            "rows_per_id": sorted({count for _, count in rows}),
            "cursor": cursor.position if cursor else None,
        }


def test_reads_every_page_and_stores_the_cursor(store: Store):
    connector = ListConnector("erp", customers=make_customers(23), page_size=5)
    progress: list[int] = []
    result = mirror_stream(connector, store, connection="erp", stream="customers",
                           on_page=progress.append)
    assert (result.read, result.inserted, result.updated, result.unchanged, result.pages) == (
        23, 23, 0, 0, 5)
    assert progress == [5, 5, 5, 5, 3]
    assert result.cursor == {"offset": 23}
    with store.session() as session:
        assert counts(session)["customers"] == 23
        assert load_cursor(session, "erp", "customers") == Cursor(
            stream="customers", position={"offset": 23})
        run = get_run(session, result.run_id)
        assert run is not None and run.status == SUCCEEDED and run.job == "mirror.customers"
        assert run.summary["read"] == 23 and run.summary["connection"] == "erp"


def test_the_next_run_continues_from_the_cursor(store: Store):
    data = make_customers(12)
    connector = ListConnector("erp", customers=data[:10], page_size=5)
    mirror_stream(connector, store, connection="erp", stream="customers")
    connector.records["customers"] = data  # two new records at the source
    connector.delivered.clear()
    again = mirror_stream(connector, store, connection="erp", stream="customers")
    assert (again.read, again.inserted, again.pages) == (2, 2, 1)
    assert connector.delivered == ["C010", "C011"]
    nothing = mirror_stream(connector, store, connection="erp", stream="customers")
    assert (nothing.read, nothing.inserted, nothing.pages) == (0, 0, 1)


def test_full_ignores_the_cursor_and_rewrites_nothing(store: Store):
    connector = ListConnector("erp", customers=make_customers(12), page_size=5)
    mirror_stream(connector, store, connection="erp", stream="customers")
    full = mirror_stream(connector, store, connection="erp", stream="customers", full=True)
    assert (full.read, full.inserted, full.updated, full.unchanged, full.full) == (
        12, 0, 0, 12, True)


@pytest.mark.parametrize("read_ahead_safe", [False, True])
@pytest.mark.parametrize("fail_on_page", [1, 3, 5])
def test_resume_after_a_crash_reaches_the_uninterrupted_end_state(
    store: Store, fail_on_page, read_ahead_safe,
):
    # With read_ahead_safe the five pages are read into one transaction: the pages read
    # before the failing read are still committed (with their cursor) before the run fails.
    data = make_customers(23)
    reference = ListConnector("ref", customers=data, page_size=5)
    mirror_stream(reference, store, connection="ref", stream="customers")

    crashing = ListConnector("crash", customers=data, page_size=5, fail_on_page=fail_on_page,
                             read_ahead_safe=read_ahead_safe)
    with pytest.raises(UnreachableError):
        mirror_stream(crashing, store, connection="crash", stream="customers")
    committed = 5 * (fail_on_page - 1)
    with store.session() as session:
        assert len(list(mirrored_customers(session, "crash"))) == committed
        failed = recent_runs(session, job="mirror.customers", limit=1)[0]
        assert failed.status == FAILED and "connection reset" in failed.summary["error"]

    resumed = mirror_stream(crashing, store, connection="crash", stream="customers")
    assert resumed.read == resumed.inserted == 23 - committed
    assert sorted(crashing.delivered) == sorted(c.id for c in data)  # no page read twice
    assert end_state(store, "crash") == end_state(store, "ref")
    assert end_state(store, "crash")["rows_per_id"] == [1]


def test_the_cursor_only_advances_with_the_pages_records(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """If saving the cursor fails, the page's records roll back with it, and the resumed run
    reads that page again — nothing lost, nothing twice."""
    connector = ListConnector("erp", customers=make_customers(12), page_size=5)
    real_save = mirror_module.save_cursor
    calls = {"n": 0}

    def save_fails_on_second_page(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")
        real_save(*args, **kwargs)

    monkeypatch.setattr(mirror_module, "save_cursor", save_fails_on_second_page)
    with pytest.raises(OSError, match="disk full"):
        mirror_stream(connector, store, connection="erp", stream="customers")
    with store.session() as session:
        assert counts(session)["customers"] == 5
        assert load_cursor(session, "erp", "customers").position == {"offset": 5}
    resumed = mirror_stream(connector, store, connection="erp", stream="customers")
    assert (resumed.read, resumed.inserted, resumed.unchanged) == (7, 7, 0)
    with store.session() as session:
        assert counts(session)["customers"] == 12


def test_orders_mirror_with_their_lines(store: Store):
    data = make_orders(9)
    connector = ListConnector("shop", orders=data, page_size=4, fail_on_page=2)
    with pytest.raises(UnreachableError):
        mirror_stream(connector, store, connection="shop", stream="orders")
    result = mirror_stream(connector, store, connection="shop", stream="orders")
    assert isinstance(result, MirrorResult) and result.inserted == 5
    with store.session() as session:
        assert sorted(o.id for o in mirrored_orders(session, "shop")) == sorted(
            o.id for o in data)
        assert counts(session)["order_lines"] == sum(len(o.lines) for o in data)


def test_a_stream_the_connector_cannot_read_is_refused(store: Store):
    connector = ListConnector("erp")
    with pytest.raises(NotSupportedError, match="read_products"):
        mirror_stream(connector, store, connection="erp", stream="products")


def test_a_cursor_that_does_not_advance_is_a_connector_error(store: Store):
    class Stuck(ListConnector):
        def read_customers(self, cursor: Cursor | None = None) -> Page[Customer]:
            self.reads += 1
            return Page(items=[], cursor=Cursor(stream="customers", position={"offset": 0}),
                        has_more=True)

    with pytest.raises(ConnectorError, match="without advancing its cursor"):
        mirror_stream(Stuck("erp"), store, connection="erp", stream="customers")


def test_a_connector_with_a_large_cursor_is_checkpointed_less_often(
    store: Store, monkeypatch: pytest.MonkeyPatch
):
    """``cursor_checkpoint_seconds``: the cursor is saved at most that often and always with
    the last page; a run that dies in between resumes from the last checkpoint, re-reads
    those pages and writes nothing twice."""
    saved: list[dict[str, Any]] = []
    real_save = mirror_module.save_cursor

    def recording_save(session: Any, connection: str, cursor: Cursor, **kw: Any) -> None:
        saved.append(dict(cursor.position))
        real_save(session, connection, cursor, **kw)

    monkeypatch.setattr(mirror_module, "save_cursor", recording_save)
    connector = ListConnector("woo", customers=make_customers(23), page_size=5)
    connector.cursor_checkpoint_seconds = 3600.0  # type: ignore[attr-defined]
    mirror_stream(connector, store, connection="woo", stream="customers")
    assert saved == [{"offset": 23}]  # five pages, one checkpoint: the last page's

    saved.clear()
    dying = ListConnector("erp", customers=make_customers(23), page_size=5, fail_on_page=4)
    dying.cursor_checkpoint_seconds = 3600.0  # type: ignore[attr-defined]
    with pytest.raises(UnreachableError):
        mirror_stream(dying, store, connection="erp", stream="customers")
    assert saved == []
    with store.session() as session:
        assert counts(session)["customers"] == 23 + 15  # three pages' records are durable
        assert load_cursor(session, "erp", "customers") is None
    resumed = mirror_stream(dying, store, connection="erp", stream="customers")
    assert (resumed.read, resumed.inserted, resumed.unchanged) == (23, 8, 15)
    assert end_state(store, "erp")["rows_per_id"] == [1]
    # checkpoint_seconds=0 (the default for connectors that declare nothing): every page.
    saved.clear()
    mirror_stream(ListConnector("x", customers=make_customers(12), page_size=5), store,
                  connection="x", stream="customers")
    assert saved == [{"offset": 5}, {"offset": 10}, {"offset": 12}]


class CountingConnector(ListConnector):
    """A ``CountsRecords`` connector: what is left after the cursor, or a failing count."""

    def __init__(self, *args: Any, count_fails: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.count_fails = count_fails
        self.counted: list[tuple[str, Cursor | None]] = []

    def count_records(self, stream: str, cursor: Cursor | None = None) -> int | None:
        self.counted.append((stream, cursor))
        if self.count_fails:
            raise UnreachableError("count refused", connection=self.name, operation="count")
        offset = int(cursor.position["offset"]) if cursor else 0
        return len(self.records[stream]) - offset


def test_a_counting_connector_gives_the_total_once_before_the_first_page(store: Store):
    connector = CountingConnector("erp", customers=make_customers(12), page_size=5)
    events: list[tuple[str, int]] = []
    result = mirror_stream(connector, store, connection="erp", stream="customers",
                           on_page=lambda n: events.append(("page", n)),
                           on_total=lambda n: events.append(("total", n)))
    assert events == [("total", 12), ("page", 5), ("page", 5), ("page", 2)]
    assert result.expected == 12 and connector.counted == [("customers", None)]
    connector.records["customers"] += make_customers(15)[12:]
    again = mirror_stream(connector, store, connection="erp", stream="customers")
    assert again.expected == 3 == again.read  # counted from the stored cursor
    assert connector.counted[-1] == ("customers", Cursor(stream="customers",
                                                         position={"offset": 12}))


def test_a_failing_count_is_logged_and_the_import_goes_on(store: Store, caplog):
    connector = CountingConnector("erp", customers=make_customers(7), count_fails=True)
    totals: list[int] = []
    result = mirror_stream(connector, store, connection="erp", stream="customers",
                           on_total=totals.append)
    assert (result.read, result.expected, totals) == (7, None, [])
    assert any("counting customers failed" in r.getMessage() and r.levelname == "WARNING"
               for r in caplog.records)
    assert result.run_id and get_run_status(store, result.run_id) == SUCCEEDED


def get_run_status(store: Store, run_id: str) -> str:
    with store.session() as session:
        run = get_run(session, run_id)
        assert run is not None
        return run.status


class CollectorWatchingConnector(ListConnector):
    """Notes, per read, whether Python's cyclic collector was running."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.collector_during_reads: list[bool] = []

    def _read(self, stream: str, cursor: Cursor | None) -> Page[Any]:
        self.collector_during_reads.append(gc.isenabled())
        return super()._read(stream, cursor)


def test_pages_run_with_the_collector_paused_and_it_resumes_after_success_and_failure(
    store: Store,
):
    assert gc.isenabled()
    connector = CollectorWatchingConnector("erp", customers=make_customers(12), page_size=5)
    mirror_stream(connector, store, connection="erp", stream="customers")
    assert connector.collector_during_reads == [False, False, False]
    assert gc.isenabled()
    failing = CollectorWatchingConnector("crash", customers=make_customers(12), page_size=5,
                                         fail_on_page=2)
    with pytest.raises(UnreachableError):
        mirror_stream(failing, store, connection="crash", stream="customers")
    assert failing.collector_during_reads == [False, False]
    assert gc.isenabled()


class CommitWatchingConnector(ListConnector):
    """Notes, per read, how many of its customers the store holds committed already."""

    def __init__(self, store: Store, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = store
        self.committed_at_reads: list[int] = []
        self.stop: StopToken | None = None
        self.stop_at_read: int | None = None

    def _read(self, stream: str, cursor: Cursor | None) -> Page[Any]:
        with self.store.session() as session:
            self.committed_at_reads.append(len(list(mirrored_customers(session, self.name))))
        page = super()._read(stream, cursor)
        if self.stop is not None and self.reads == self.stop_at_read:
            self.stop.request()
        return page


class DigestKeepingConnector(CommitWatchingConnector):
    """Says it is read_ahead_safe but keeps record digests: it must not be read ahead."""

    def use_record_digests(self, digests: Any) -> None:
        self.digests = digests


@pytest.mark.parametrize(("connector_class", "read_ahead_safe", "committed"), [
    (CommitWatchingConnector, False, [0, 5, 10, 15, 20]),
    (CommitWatchingConnector, True, [0, 0, 0, 0, 0]),
    (DigestKeepingConnector, True, [0, 5, 10, 15, 20]),
])
def test_only_a_read_ahead_safe_connector_has_its_pages_committed_together(
    store: Store, connector_class, read_ahead_safe, committed,
):
    connector = connector_class(store, "erp", customers=make_customers(23), page_size=5,
                                read_ahead_safe=read_ahead_safe)
    progress: list[int] = []
    result = mirror_stream(connector, store, connection="erp", stream="customers",
                           on_page=progress.append)
    assert connector.committed_at_reads == committed
    assert (result.read, result.inserted, result.pages, progress) == (
        23, 23, 5, [5, 5, 5, 5, 3])
    with store.session() as session:
        assert load_cursor(session, "erp", "customers") == Cursor(
            stream="customers", position={"offset": 23})


def test_a_stop_during_read_ahead_commits_the_pages_read_and_their_cursor(store: Store):
    connector = CommitWatchingConnector(store, "erp", customers=make_customers(23),
                                        page_size=5, read_ahead_safe=True)
    connector.stop, connector.stop_at_read = StopToken(), 2
    result = mirror_stream(connector, store, connection="erp", stream="customers",
                           stop=connector.stop)
    assert result.stopped and (result.read, result.pages) == (10, 2)
    assert connector.committed_at_reads == [0, 0]
    with store.session() as session:
        assert len(list(mirrored_customers(session, "erp"))) == 10
        assert load_cursor(session, "erp", "customers") == Cursor(
            stream="customers", position={"offset": 10})
    resumed = mirror_stream(connector, store, connection="erp", stream="customers")
    assert resumed.read == resumed.inserted == 13
