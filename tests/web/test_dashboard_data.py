"""What the dashboard reads from the store, on SQLite and PostgreSQL: run history with totals,
one run's audit counts and changes, model figures."""

from __future__ import annotations

from datetime import UTC, datetime

from shoploop.store import Store, finish_run, save_reco_model, start_run
from shoploop.sync._state import record_changes  # the sync job's own writer of audit rows
from shoploop.web._dashboard_data import reco_models, run_detail, run_history


def _changes(run_id: str, target: str, key: str, status: str, n: int) -> list[dict[str, object]]:
    return [{"run_id": run_id, "connection": target, "customer_external_id": f"c{i}",
             "source": "erp", "attr_key": key, "old": None, "new": f"v{i}", "status": status}
            for i in range(n)]


def test_runs_and_one_runs_changes(store: Store) -> None:
    with store.session() as session:
        first = start_run(session, "sync.customers")
        finish_run(session, first, summary={"dry_run": False, "targets": {
            "shop": {"written": 7, "failed": 2}, "woo": {"written": 5, "cleared": 1}}})
        record_changes(session, _changes(first, "shop", "customer_group", "written", 7)
                       + _changes(first, "shop", "customer_group", "failed", 2)
                       + _changes(first, "woo", "sales_rep", "written", 5))
        second = start_run(session, "reco.publish")
    history = run_history(store)
    assert [r.id for r in history] == [second, first]  # newest first
    assert (history[1].written, history[1].cleared, history[1].failed) == (12, 1, 2)
    assert history[0].status == "running" and history[0].seconds is None

    detail = run_detail(store, first, limit=4)
    assert detail is not None
    assert dict(detail.by_status) == {"written": 12, "failed": 2}
    assert dict(detail.by_attribute) == {"shop · customer_group": 9, "woo · sales_rep": 5}
    assert detail.total == 14 and len(detail.changes) == 4  # counted all, showed the limit
    failed = run_detail(store, first, status="failed")
    assert failed is not None and failed.total == 2
    assert {c["status"] for c in failed.changes} == {"failed"}
    assert run_detail(store, "no-such-run") is None


def test_model_figures_come_from_the_build_summary(store: Store) -> None:
    assert reco_models(store) == []
    with store.session() as session:
        save_reco_model(session, payload=b"x", built_at=datetime(2026, 1, 2, tzinfo=UTC),
                        format=1, summary={"bought_together": {"orders": 120, "pairs": 33},
                                           "upsell": {"products_with_upsells": 4},
                                           "strategies": ["bought_together"]})
    (model,) = reco_models(store)
    assert dict(model.figures) == {"figure_orders": 120, "figure_pairs": 33,
                                   "figure_products_with_upsells": 4}
    assert model.strategies == ["bought_together"]
