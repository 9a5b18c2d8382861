"""``shoploop experiments list | show | report`` in process, against a store with one
experiment's assignments, events and orders."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from shoploop import load_plugins
from shoploop.cli._app import build_app
from shoploop.hooks import LineItem, Order
from shoploop.store import Store, record_assignment, record_web_events, upsert_orders

T0 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _cli(store: Store, tmp_path: Path, experiments: str, *args: str) -> Any:
    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n{experiments}')
    host = load_plugins(environ={"SHOPLOOP_LOAD_PLUGINS": ""})
    return CliRunner().invoke(build_app(host), ["-c", str(config), *args])


def test_list_show_and_report(store: Store, tmp_path: Path, k_test_toml: str) -> None:
    with store.session() as session:
        for n in range(6):
            unit, variant = f"shop/c{n}", ("control", "k8")[n % 2]
            record_assignment(session, experiment="k_test", unit_kind="customer",
                              unit_key=unit, variant=variant, customer_key=unit, at=T0)
            record_web_events(session, [{
                "event_id": f"imp-{n}", "type": "impression", "connection": "shop",
                "placement": "product_page", "product_external_id": "p1", "occurred_at": T0,
                "experiment": "k_test", "variant": variant, "unit_key": unit}])
        upsert_orders(session, "shop", [Order(
            id="o1", customer_id="c1", placed_at=T0 + timedelta(days=1), lines=[
                LineItem(product_id="p1", name="p1", quantity=1, unit_price=Decimal(15))])])

    listed = _cli(store, tmp_path, k_test_toml, "experiments", "list", "--json", "--now",
                  "2026-12-02")
    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.output)["experiments"] == [{
        "experiment": "k_test", "running": True, "unit": "customer",
        "placements": ["product_page"], "primary_metric": "conversion",
        "units": {"control": 3, "k8": 3}}]

    shown = _cli(store, tmp_path, k_test_toml, "experiments", "show", "k_test", "--json")
    assert shown.exit_code == 0, shown.output
    plan = json.loads(shown.output)
    assert 8000 < plan["planned_units_per_arm"] < 8300
    assert plan["variants"][1] == {"name": "k8", "share": 0.5, "k": 8}

    reported = _cli(store, tmp_path, k_test_toml, "experiments", "report", "k_test", "--json",
                    "--now", "2026-12-05")
    assert reported.exit_code == 0, reported.output
    report = json.loads(reported.output)
    arms = {arm["variant"]: arm for arm in report["arms"]}
    assert arms["k8"]["converted_units"] == 1 and arms["k8"]["revenue"] == {"EUR": "15.00"}
    assert arms["control"]["converted_units"] == 0
    assert report["verdicts"][0]["status"] == "not_yet_at_horizon"

    text = _cli(store, tmp_path, k_test_toml, "experiments", "report", "k_test", "--now",
                "2026-12-05")
    assert text.exit_code == 0, text.output
    assert "not_yet_at_horizon" in text.output and "k8 vs control conversion" in text.output

    unknown = _cli(store, tmp_path, k_test_toml, "experiments", "report", "k_tset")
    assert unknown.exit_code == 2
    assert "did you mean 'k_test'" in unknown.output
