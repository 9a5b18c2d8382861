"""Watermark cursors of orders/products as a property: whatever the changes between scans
(several in one second, backdated, future-dated, during a scan), every version is delivered
once and the checkpoint of an unchanged source delivers nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.plugins.woocommerce._mapping import format_time
from shoploop.plugins.woocommerce._streams import (
    WatermarkPosition,
    filter_watermark,
    finish_watermark,
)

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def scan(table: dict[str, datetime], position: WatermarkPosition, page_size: int,
         server_now: datetime, during: list[tuple[str, datetime]] | None = None,
         ) -> tuple[list[tuple[str, datetime]], WatermarkPosition]:
    """One full scan the way the connector does it, against a server filtering
    ``modified > modified_after`` and ordering by id; ``during`` changes happen after page 1."""
    delivered: list[tuple[str, datetime]] = []
    position.started = format_time(server_now)
    low_text = position.query().get("modified_after")
    low = datetime.fromisoformat(low_text).replace(tzinfo=UTC) if low_text else None
    while True:
        matching = sorted((int(i), i) for i, m in table.items() if low is None or m > low)
        chunk = matching[(position.page - 1) * page_size:position.page * page_size]
        last = position.page * page_size >= len(matching)
        records: list[tuple[str, datetime | None, Any]] = [
            (i, table[i], (i, table[i])) for _, i in chunk]
        delivered += filter_watermark(position, records)
        if position.page == 1 and during:
            for record_id, moment in during:
                table[record_id] = moment
            during = None
        if last:
            return delivered, finish_watermark(position)
        position.page += 1


moments = st.integers(min_value=-3000, max_value=3000).map(lambda s: NOW + timedelta(seconds=s))


@settings(max_examples=200, deadline=None)
@given(initial=st.dictionaries(st.integers(1, 40).map(str), moments, min_size=1, max_size=25),
       rounds=st.lists(st.tuples(
           st.lists(st.tuples(st.integers(1, 45).map(str), st.integers(0, 5)), max_size=6),
           st.lists(st.tuples(st.integers(1, 45).map(str), st.integers(0, 5)), max_size=3)),
           max_size=4),
       page_size=st.integers(1, 7))
def test_every_version_is_delivered_once(initial: dict[str, datetime],
                                         rounds: list[Any], page_size: int) -> None:
    table = dict(initial)
    clock = max(NOW, *table.values()) if table else NOW
    position = WatermarkPosition()
    seen: set[tuple[str, datetime]] = set()
    for between, during in [([], []), *rounds]:
        for record_id, step in between:  # changes while no scan runs: the clock moves on
            clock += timedelta(seconds=step)
            table[record_id] = clock
        server_now = clock
        changes_during = []
        for record_id, step in during:
            clock += timedelta(seconds=max(step, 1))
            changes_during.append((record_id, clock))
        expected_now = set(table.items())
        delivered, position = scan(table, position, page_size, server_now, changes_during)
        assert len(delivered) == len(set(delivered)), "a version delivered twice in one scan"
        # What changed before the scan (and not again during it) comes in this very scan.
        due = {v for v in expected_now - seen if table[v[0]] == v[1]}
        assert due <= set(delivered), due - set(delivered)
        seen |= set(delivered)
        position = WatermarkPosition.model_validate(position.model_dump(mode="json"))
    # Settled: everything current was delivered, and the checkpoint returns nothing more.
    delivered, position = scan(table, position, page_size, clock)
    seen |= set(delivered)
    assert set(table.items()) <= seen
    again, _ = scan(table, position, page_size, clock)
    assert again == []
