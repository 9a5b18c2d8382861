"""``shoploop reco export``: JSON Lines through the real CLI app, on both store backends."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from shoploop.hooks import RecommendationRequest
from shoploop.reco import export_lines, load_model, recommend
from shoploop.store import Store


def test_export_products_one_line_each_as_the_lookup_answers(cli: Any, store: Store,
                                                             host: Any, kit: Any) -> None:
    kit.b2b_merchant(store)
    assert cli("reco", "build").exit_code == 0
    result = cli("reco", "export", "--for", "products", "--k", "3")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    # every product of both connections, each in its own connection's ids
    assert sorted((line["connection"], line["product_id"]) for line in lines) == sorted(
        [("shop", pid) for pid in kit.shop_ids.values()] +
        [("erp", sku) for sku in kit.shop_ids])
    assert all(set(line) == {"product_id", "connection", "recommendations"} for line in lines)
    assert all(len(line["recommendations"]) <= 3 for line in lines)
    model = load_model(store)
    machine = kit.shop_ids["ESP-PRO-2"]
    expected = recommend(host, model, RecommendationRequest(
        connection="shop", product_id=machine, placement="product_page", k=3))
    line = next(li for li in lines if li["connection"] == "shop" and li["product_id"] == machine)
    assert line["recommendations"] == [
        {"product_id": r.product_id, "score": round(r.score, 6), "kind": r.kind,
         "reason": r.reason} for r in expected]
    assert line["recommendations"][0]["product_id"] == kit.shop_ids["DESC-500"]
    assert "reco export products" in result.stderr  # the progress, never on stdout


def test_export_customers_to_a_file(cli: Any, store: Store, kit: Any, tmp_path: Path) -> None:
    kit.b2b_merchant(store)
    assert cli("reco", "build").exit_code == 0
    out = tmp_path / "customers.jsonl"
    result = cli("reco", "export", "--for", "customers", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    keys = {(line["connection"], line["customer_id"]) for line in lines}
    assert len(keys) == len(lines)  # one line per customer and connection
    # the bound customer appears in both connections' ids; guests do not appear at all
    assert {("erp", "K-1001"), ("shop", "9001"), ("shop", "9002")} <= keys
    assert all(set(line) == {"customer_id", "connection", "recommendations"} for line in lines)
    assert not list(tmp_path.glob("*.partial"))


def test_export_writes_each_line_before_the_next_lookup(store: Store, host: Any,
                                                        kit: Any, build: Any) -> None:
    """Streaming: when line n is counted, exactly n lines have been written."""
    kit.b2b_merchant(store)
    build(store, min_support=3)
    model = load_model(store)
    out = io.StringIO()
    seen: list[int] = []
    count = export_lines(host, model, "products", out,
                         progress=lambda _n: seen.append(out.getvalue().count("\n")))
    assert count == 12 and seen == list(range(1, 13))


def test_export_without_a_model_says_build(cli: Any) -> None:
    result = cli("reco", "export", "--for", "products")
    assert result.exit_code == 2 and "shoploop reco build" in result.output
    wrong = cli("reco", "export", "--for", "orders")
    assert wrong.exit_code == 2 and "--for" in wrong.output
