"""Sync cursors round-trip their JSON; runs and counts record what jobs did."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shoploop.hooks import Cursor
from shoploop.store import (
    FAILED,
    RUNNING,
    SUCCEEDED,
    Store,
    counts,
    delete_cursor,
    finish_run,
    get_run,
    load_cursor,
    recent_runs,
    save_cursor,
    start_run,
)

NESTED = {
    "since": "2026-01-31T23:59:59.123456+00:00",
    "bookmark": "Qm9va21hcms=;ünïcødé ✓",
    "offsets": [0, 100, 2**53],
    "ratio": 0.25,
    "done": False,
    "nothing": None,
    "per_shop": {"a": {"page_info": ["x", {"deep": [1, [2, [3]]]}]}, "b": {}},
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=32) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)


def test_cursor_round_trip_with_nested_values(store: Store):
    with store.session() as session:
        assert load_cursor(session, "erp", "customers") is None
        save_cursor(session, "erp", Cursor(stream="customers", position=NESTED))
    with store.session() as session:
        loaded = load_cursor(session, "erp", "customers")
    assert loaded == Cursor(stream="customers", position=NESTED)


@settings(max_examples=10, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_any_json_position_round_trips(store: Store, position):
    saved = Cursor(stream="orders", position=position)
    with store.session() as session:
        save_cursor(session, "erp", saved)
    with store.session() as session:
        loaded = load_cursor(session, "erp", "orders")
    # Compared with what the model holds: Cursor strips whitespace around top-level keys.
    assert loaded == saved


def test_saving_overwrites_and_streams_are_separate(store: Store):
    with store.session() as session:
        save_cursor(session, "erp", Cursor(stream="customers", position={"page": 1}))
        save_cursor(session, "erp", Cursor(stream="customers", position={"page": 2}))
        save_cursor(session, "erp", Cursor(stream="orders", position={"page": 9}))
        save_cursor(session, "shop", Cursor(stream="customers", position={"page": 5}))
        save_cursor(session, "shop", Cursor(stream="connector-name", position={"x": 1}),
                    stream="products")
    with store.session() as session:
        assert load_cursor(session, "erp", "customers").position == {"page": 2}
        assert load_cursor(session, "erp", "orders").position == {"page": 9}
        assert load_cursor(session, "shop", "customers").position == {"page": 5}
        assert load_cursor(session, "shop", "products") == Cursor(stream="products",
                                                                   position={"x": 1})
        assert delete_cursor(session, "erp", "orders") is True
        assert delete_cursor(session, "erp", "orders") is False
        assert load_cursor(session, "erp", "orders") is None
        assert counts(session)["sync_cursors"] == 3


def test_runs_record_start_and_end(store: Store):
    with store.session() as session:
        first = start_run(session, "mirror.customers", summary={"connection": "erp"})
        second = start_run(session, "sync.customers", run_id="fixed-id")
    with store.session() as session:
        run = get_run(session, first)
        assert run is not None and run.status == RUNNING and run.finished_at is None
        assert run.started_at.tzinfo is not None
        finish_run(session, first, status=SUCCEEDED, summary={"read": 3, "nested": {"a": [1]}})
        finish_run(session, second, status=FAILED)
    with store.session() as session:
        run = get_run(session, first)
        assert run is not None and run.status == SUCCEEDED
        assert run.summary == {"read": 3, "nested": {"a": [1]}}
        assert run.finished_at is not None and run.finished_at <= datetime.now(UTC)
        assert [r.id for r in recent_runs(session, job="sync.customers")] == ["fixed-id"]
        assert {r.id for r in recent_runs(session)} == {first, second}
        assert get_run(session, "fixed-id").summary == {}
