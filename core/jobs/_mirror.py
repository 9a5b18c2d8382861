"""The mirror job: copy one stream of one connection into the store, incrementally.

The checkpoint is the stream's stored cursor. Each page is one transaction (or a few pages, for
a connector that is ``read_ahead_safe``): the page's records are upserted *and* the page's
cursor saved together, so the cursor only advances when the page's effects are durable. A run
killed at any point resumes from the last committed page; upserts are idempotent, so
re-reading a page whose commit was lost writes nothing twice.

Customers erased for privacy (``shoploop.store.erase_customer``) are never mirrored again: each
page's customer ids are checked against the tombstones in the page's own transaction, and items
of an erased customer (the customer itself, its orders, its installed base) are dropped before
the upsert — also when the erasure happened while this import was running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, get_args

from sqlalchemy.orm import Session

from shoploop._gc import gc_paused
from shoploop._interrupt import StopToken
from shoploop.hooks import (
    ConnectorError,
    CountsRecords,
    Cursor,
    KeepsRecordDigests,
    NotSupportedError,
    Page,
)
from shoploop.store import (
    FAILED,
    INTERRUPTED,
    SUCCEEDED,
    Store,
    StoredRecordDigests,
    UpsertResult,
    close_stale_runs,
    erased_among,
    external_id_hash,
    finish_run,
    live_run,
    load_cursor,
    new_run_id,
    of_connection,
    save_cursor,
    start_run,
    upsert_customers,
    upsert_installed_base,
    upsert_orders,
    upsert_products,
)

log = logging.getLogger("shoploop.jobs.mirror")

MirrorStream = Literal["customers", "orders", "products", "installed_base"]
STREAMS: tuple[MirrorStream, ...] = get_args(MirrorStream)

_UPSERT: dict[str, Callable[[Session, str, Sequence[Any]], UpsertResult]] = {
    "customers": upsert_customers,
    "orders": upsert_orders,
    "products": upsert_products,
    "installed_base": upsert_installed_base,
}

_CUSTOMER_ID_OF: dict[str, Callable[[Any], str | None]] = {
    "customers": lambda item: item.id,
    "orders": lambda item: item.customer_id,
    "installed_base": lambda item: item.customer_id,
}
"""Per stream, the id of the customer an item belongs to (to drop erased customers' items)."""

_RECORDS_PER_TRANSACTION = 5000
_READ_AHEAD_SECONDS = 1.0
"""A connector that is ``read_ahead_safe`` gets its pages committed several at a time: up to
that many records, or the pages read in that long (so progress and commits stay frequent with
a slow source). A commit was a tenth of a page's cost on SQLite (docs/sync.md#speed-of-the-
mirror-and-the-store)."""


@dataclass
class MirrorResult:
    """What one ``mirror_stream`` run did. ``read`` counts items as delivered (a record
    delivered twice counts twice); inserted/updated/unchanged count distinct records."""

    connection: str
    stream: str
    run_id: str = ""
    full: bool = False
    read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    erased: int = 0
    """Items dropped because their customer was erased (privacy); included in ``read``."""
    warnings: int = 0
    """Records the connector kept with a problem worked around (``Page.warnings``)."""
    expected: int | None = None
    """The connector's estimate of the items this run reads (``CountsRecords``), if any."""
    pages: int = 0
    stopped: bool = False
    """A stop was requested (:class:`shoploop._interrupt.StopToken`): it ended after a
    committed page, before the last; the next run resumes from there."""
    cursor: dict[str, Any] | None = field(default=None, repr=False)

    def add_page(self, items: int, upserted: UpsertResult) -> None:
        self.pages += 1
        self.read += items
        self.inserted += upserted.inserted
        self.updated += upserted.updated
        self.unchanged += upserted.unchanged

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def mirror_stream(
    connector: Any,
    store: Store,
    *,
    connection: str,
    stream: MirrorStream,
    full: bool = False,
    on_page: Callable[[int], None] | None = None,
    checkpoint_seconds: float | None = None,
    on_total: Callable[[int], None] | None = None,
    stop: StopToken | None = None,
) -> MirrorResult:
    """Mirror ``stream`` of ``connector`` (the connection named ``connection``) into ``store``.

    Starts from the stored cursor (from the beginning with ``full=True`` or on the first
    run), calls ``connector.read_<stream>(cursor)`` until a page says ``has_more=False``.
    ``on_page(n)`` is called after each committed page with its number of items (progress);
    ``on_total(n)`` once before the first page when the connector can count the read
    (:class:`~shoploop.hooks.CountsRecords`). Each of a page's ``warnings`` is logged.
    Connector errors propagate after the run is recorded as failed; the next run resumes.

    ``checkpoint_seconds`` (default: the connector's ``cursor_checkpoint_seconds``, else 0):
    the cursor is saved with every page when 0; otherwise at most that often, and always
    with the last page. A resumed run then re-reads at most that many seconds of pages; the
    upserts are idempotent, so nothing is written twice. A connector that
    :class:`~shoploop.hooks.KeepsRecordDigests` (full-scan streams: WooCommerce customers) gets
    the store's ``record_digests`` for this connection, so its cursor stays a scan position.

    A connector whose reads have no side effects may say so with ``read_ahead_safe = True``
    (the ``files`` connector does): its pages are then read several at a time (up to
    ``_RECORDS_PER_TRANSACTION`` records or ``_READ_AHEAD_SECONDS``) and committed in one
    transaction with the last one's cursor; without it (the default) the next page is read only
    after this one is committed, as a cursor coming back means its page was taken
    (docs/writing-a-plugin.md). A read that fails after such pages fails the run once they are
    committed.

    ``stop``: checked after each page read and each commit; once a stop is requested the
    cursor is saved and the run ends early, recorded ``interrupted`` (``result.stopped``).
    """
    run_id = new_run_id()
    # Held for the whole run: a run killed on the way is then seen dead (and closed) by the
    # next import of this stream and connection, and by `shoploop jobs status`.
    with live_run(store, run_id):
        close_stale_runs(store, by=f"an import of {stream} from {connection}",
                         jobs=[f"mirror.{stream}"], match=of_connection(connection))
        return _mirror_stream(connector, store, run_id=run_id, connection=connection,
                              stream=stream, full=full, on_page=on_page,
                              checkpoint_seconds=checkpoint_seconds, on_total=on_total,
                              stop=stop)


def _mirror_stream(
    connector: Any, store: Store, *, run_id: str, connection: str, stream: MirrorStream,
    full: bool, on_page: Callable[[int], None] | None, checkpoint_seconds: float | None,
    on_total: Callable[[int], None] | None, stop: StopToken | None,
) -> MirrorResult:
    if checkpoint_seconds is None:
        checkpoint_seconds = float(getattr(connector, "cursor_checkpoint_seconds", 0.0))
    if stream not in _UPSERT:
        raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
    reader: Callable[[Cursor | None], Page[Any]] | None = getattr(
        connector, f"read_{stream}", None
    )
    if reader is None:
        raise NotSupportedError(
            f"this connector does not read {stream}", connection=connection,
            operation=f"read_{stream}",
        )
    upsert = _UPSERT[stream]
    if isinstance(connector, KeepsRecordDigests):
        connector.use_record_digests(StoredRecordDigests(store, connection))
    result = MirrorResult(connection=connection, stream=stream, full=full)
    with store.session() as session:
        result.run_id = start_run(
            session, f"mirror.{stream}", run_id=run_id,
            summary={"connection": connection, "stream": stream, "full": full},
        )
        cursor = None if full else load_cursor(session, connection, stream)
    customer_id_of = _CUSTOMER_ID_OF.get(stream)
    log.info("mirroring %s of %s from %s", stream, connection,
             "the beginning" if cursor is None else "the stored cursor")
    last_checkpoint = time.monotonic()
    ahead = _RECORDS_PER_TRANSACTION if _reads_ahead(connector) else 0
    try:
        result.expected = _expected(connector, connection, stream, cursor)
        if result.expected is not None and on_total is not None:
            on_total(result.expected)
        while True:
            # The pages' records stay alive from the read to the commit: without the pause
            # the collector rescans them every 700 allocations (shoploop._gc).
            with gc_paused():
                pages, read_with, failure = _read_pages(reader, cursor, ahead, stop)
                last = pages[-1]
                due = not last.has_more or failure is not None or \
                    (stop is not None and stop.requested) or \
                    time.monotonic() - last_checkpoint >= checkpoint_seconds
                done: list[tuple[int, UpsertResult, list[str]]] = []
                with store.session() as session:  # the pages and the last one's cursor
                    for page in pages:
                        items = _without_erased(session, connection, page.items,
                                                customer_id_of)
                        result.erased += len(page.items) - len(items)
                        done.append((len(page.items), upsert(session, connection, items),
                                     page.warnings))
                    if due:
                        save_cursor(session, connection, last.cursor, stream=stream)
                has_more, page_cursor = last.has_more, last.cursor
                del pages, last, page, items  # freed before the collector resumes
            if due:
                last_checkpoint = time.monotonic()
            for read, upserted, warnings in done:
                result.add_page(read, upserted)
                result.warnings += len(warnings)
                for warning in warnings:
                    log.warning("[%s] %s: %s", connection, stream, warning)
                log.debug("%s %s page %d: %d items, %s", connection, stream, result.pages,
                          read, upserted)
                if on_page is not None:
                    on_page(read)
            result.cursor = page_cursor.position
            if failure is not None:  # raised by a read after the pages just committed
                raise failure
            if not has_more:
                break
            if stop is not None and stop.requested:
                if not due:  # the cursor is where the next run starts: save it now
                    with store.session() as session:
                        save_cursor(session, connection, page_cursor, stream=stream)
                result.stopped = True
                break
            if read_with is not None and page_cursor == read_with:
                raise ConnectorError(
                    f"read_{stream} returned has_more=True without advancing its cursor",
                    connection=connection, operation=f"read_{stream}",
                    remedy="this is a connector bug; report it to the plugin's authors",
                )
            cursor = page_cursor
    except BaseException as exc:
        _record_end(store, result, FAILED, error=str(exc) or type(exc).__name__)
        raise
    _record_end(store, result, INTERRUPTED if result.stopped else SUCCEEDED)
    log.info("mirrored %s of %s: %s", stream, connection, result)
    return result


def _reads_ahead(connector: Any) -> bool:
    """May the next page be read before this one is committed? Only when the connector says
    its reads have no side effects (``read_ahead_safe``); never for one that keeps record
    digests, which saves a page's digests when that page's cursor comes back."""
    return bool(getattr(connector, "read_ahead_safe", False)) and \
        not isinstance(connector, KeepsRecordDigests)


def _read_pages(
    reader: Callable[[Cursor | None], Page[Any]], cursor: Cursor | None, ahead: int,
    stop: StopToken | None,
) -> tuple[list[Page[Any]], Cursor | None, Exception | None]:
    """The pages of one transaction: one, or with ``ahead`` pages until that many records,
    ``_READ_AHEAD_SECONDS``, the last page, a stop or a cursor that did not advance. Returns
    them, the cursor the last was read with, and the error of a read after the first (the
    pages before it are committed first, as if each had been its own transaction)."""
    pages: list[Page[Any]] = []
    records, started = 0, time.monotonic()
    while True:
        try:
            page = reader(cursor)
        except Exception as exc:
            if not pages:
                raise
            return pages, cursor, exc
        pages.append(page)
        records += len(page.items)
        if not page.has_more or records >= ahead or page.cursor == cursor or \
                time.monotonic() - started >= _READ_AHEAD_SECONDS or \
                (stop is not None and stop.requested):
            return pages, cursor, None
        cursor = page.cursor


def _expected(connector: Any, connection: str, stream: str,
              cursor: Cursor | None) -> int | None:
    """The connector's count of what this read delivers, or None; never fails the run."""
    if not isinstance(connector, CountsRecords):
        return None
    try:
        count = connector.count_records(stream, cursor)
    except Exception as exc:  # an estimate for the progress display only
        log.warning("[%s] counting %s failed, progress shows no total: %s", connection,
                    stream, exc)
        return None
    return count if isinstance(count, int) and count >= 0 else None


def _without_erased(
    session: Session, connection: str, items: Sequence[Any],
    customer_id_of: Callable[[Any], str | None] | None,
) -> Sequence[Any]:
    if customer_id_of is None or not items:
        return items
    erased = erased_among(session, connection, {
        customer for item in items if (customer := customer_id_of(item)) is not None})
    if not erased:
        return items
    return [item for item in items
            if (customer := customer_id_of(item)) is None
            or external_id_hash(customer) not in erased]


def _record_end(store: Store, result: MirrorResult, status: str, error: str = "") -> None:
    summary = result.as_dict()
    if error:
        summary["error"] = error
    try:
        with store.session() as session:
            finish_run(session, result.run_id, status=status, summary=summary)
    except Exception:
        if not error:
            raise
        # Recording the failure failed too (the store may be what broke): keep the original.
        log.exception("could not record the end of run %s", result.run_id)
