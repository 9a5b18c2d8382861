"""``reco evaluate``: the split, the metrics, both protocols over real store data (SQLite and
PostgreSQL) and the CLI command."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shoploop import load_plugins
from shoploop.cli._app import build_app
from shoploop.hooks import RecommendationPatch, hookimpl
from shoploop.reco import Pool, PoolReport, RecoSettings, evaluate
from shoploop.reco._metrics import at_k
from shoploop.reco._split import last_baskets, without_orders
from shoploop.store import Store

# -- the split -------------------------------------------------------------------------------

orders_st = st.lists(st.tuples(st.integers(-1, 5), st.integers(0, 20),
                               st.lists(st.integers(0, 6), min_size=1, max_size=4)),
                     min_size=0, max_size=40)


def _pool(orders: list[tuple[int, int, list[int]]]) -> Pool:
    line_order = [n for n, (_, _, products) in enumerate(orders) for _ in products]
    return Pool(product_keys=[f"p{n}" for n in range(7)], product_members=[{}] * 7,
                product_records={}, customer_ids=[f"c{n}" for n in range(6)],
                customer_members=[{}] * 6,
                order_customer=np.array([c for c, _, _ in orders], dtype=np.int32),
                order_day=np.array([d for _, d, _ in orders], dtype=np.int32),
                line_order=np.array(line_order, dtype=np.int32),
                line_product=np.array([p for *_, ps in orders for p in ps], dtype=np.int32),
                report=PoolReport(product_key="sku"))


@settings(max_examples=60, deadline=None)
@given(orders_st)
def test_each_repeat_customers_last_basket_is_held_out_and_training_keeps_the_rest(
        orders: list[tuple[int, int, list[int]]]) -> None:
    pool = _pool(orders)
    held = last_baskets(pool).tolist()
    for customer in range(6):
        mine = [n for n, (c, _, _) in enumerate(orders) if c == customer]
        latest = max(mine, key=lambda n: (orders[n][1], n)) if mine else None
        assert (latest in held) == (len(mine) >= 2)
    assert all(orders[n][0] >= 0 for n in held)  # never a guest order
    train = without_orders(pool, held)
    kept = [o for n, o in enumerate(orders) if n not in held]
    assert train.n_orders == len(kept)
    assert train.order_customer.tolist() == [c for c, _, _ in kept]
    assert train.order_day.tolist() == [d for _, d, _ in kept]
    assert [(int(o), int(p)) for o, p in zip(train.line_order, train.line_product,
                                               strict=True)] == \
        [(n, p) for n, (_, _, ps) in enumerate(kept) for p in ps]
    assert train.product_keys == pool.product_keys  # indices keep their meaning


# -- the metrics -----------------------------------------------------------------------------

def test_metrics_at_k_by_hand() -> None:
    recall, ndcg, hit = at_k([5, 1, 7, 2], {1, 2, 9}, 3)
    assert recall == pytest.approx(1 / 3)
    assert ndcg == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.5))
    assert hit == 1.0
    assert at_k([], {1}, 10) == (0.0, 0.0, 0.0)
    assert at_k([1, 2], {1, 2}, 10) == (1.0, 1.0, 1.0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 15), unique=True, max_size=12),
       st.sets(st.integers(0, 15), min_size=1), st.integers(1, 12))
def test_metrics_stay_in_range_and_agree(ranked: list[int], truth: set[int], k: int) -> None:
    recall, ndcg, hit = at_k(ranked, truth, k)
    assert 0 <= recall <= 1 and 0 <= ndcg <= 1 + 1e-12 and hit in (0.0, 1.0)
    assert (hit == 1.0) == (recall > 0) == (ndcg > 0)
    best = min(k, len(truth))
    perfect = all(product in truth for product in ranked[:best]) and len(ranked) >= best
    assert (ndcg == pytest.approx(1.0)) == perfect
    # Moving a hit up never lowers NDCG.
    hits = sorted(ranked[:k], key=lambda product: product not in truth)
    assert at_k(hits + ranked[k:], truth, k)[1] >= ndcg - 1e-12


# -- both protocols over a store -------------------------------------------------------------

def replenishing_merchant(store: Store, kit: Any) -> None:
    """Twenty customers buy the water filter every 30 days; their last order adds a machine
    with descaler (even customers) or a grinder with beans (odd). Guests buy those pairs
    together ten times each and the milk jug, alone, most often of all."""
    shop = kit.orders("shop", kit.shop_ids)
    for n in range(20):
        for days in (150, 120, 90):
            shop.add(f"c{n}", days, ["FILTER-10"])
        shop.add(f"c{n}", 60, ["FILTER-10", *(["ESP-PRO-2", "DESC-500"] if n % 2 == 0
                                               else ["GRINDER-S", "BEANS-1KG"])])
    for n in range(10):
        shop.add(None, 200 - n, ["ESP-PRO-2", "DESC-500"])
        shop.add(None, 190 - n, ["GRINDER-S", "BEANS-1KG"])
    for n in range(80):
        shop.add(None, 300 - n, ["MILK-JUG"])
    kit.seed(store, products={"shop": kit.shop_products()}, orders=[shop])


def _by_name(part: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["recommender"]: row for row in part["results"]}


def test_both_protocols_each_strategy_the_blend_and_the_baselines(
        store: Store, kit: Any, host: Any) -> None:
    replenishing_merchant(store, kit)
    report = evaluate(host, store, RecoSettings(), lambda: kit.now, k=1, seed=3)
    assert report["split"]["held_out_baskets"] == 20
    assert report["split"]["training_orders"] == report["split"]["orders"] - 20
    assert report["strategies"] == ["bought_together", "buy_again"]

    nb = _by_name(report["next_basket"])
    assert report["next_basket"]["cases"] == report["next_basket"]["evaluated"] == 20
    # The filter is due on the day of the last basket: one of its three products.
    for name in ("buy_again", "blend", "purchase_frequency"):
        assert nb[name]["recall"] == pytest.approx(1 / 3, abs=1e-4), name
        assert nb[name]["hit_rate"] == 1.0 and nb[name]["repeat_recall"] == 1.0
        assert nb[name]["explore_recall"] == 0.0
    assert nb["popularity"]["hit_rate"] == 0.0  # the milk jug
    assert nb["bought_together"]["answered"] == 0  # no anchor in a customer's request

    ib = _by_name(report["in_basket"])
    assert report["in_basket"]["cases"] == 20
    assert ib["popularity"]["hit_rate"] == 0.0
    # An anchor from the pair finds its partner; the filter (bought alone so far) finds none.
    assert 0 < ib["bought_together"]["hit_rate"] < 1
    assert ib["bought_together"]["hit_rate"] == ib["blend"]["hit_rate"] \
        == ib["co_occurrence_confidence"]["hit_rate"]
    assert ib["buy_again"]["answered"] == 0
    assert report["goals"]["next_basket_recall"]["met"]
    assert report["goals"]["in_basket_hit_rate"]["met"]


class VetoEverything:
    """A rule that removes every candidate: the blend answers nothing."""

    @hookimpl
    def recommendation_patches(self, candidates: Any) -> list[RecommendationPatch]:
        return [RecommendationPatch(product_id=c.product_id, action="veto", reason="test")
                for c in candidates]


def test_the_blend_without_rules_shows_what_the_rules_cost(store: Store, kit: Any) -> None:
    replenishing_merchant(store, kit)
    host = load_plugins(strict=True,
                        environ={"SHOPLOOP_LOAD_PLUGINS": "bought_together,buy_again"})
    host.register(VetoEverything(), name="veto_everything")
    report = evaluate(host, store, RecoSettings(), lambda: kit.now, k=1, seed=3)
    assert report["strategies"] == ["bought_together", "buy_again"]  # a rule is none
    for protocol in ("next_basket", "in_basket"):
        rows = _by_name(report[protocol])
        assert rows["blend"]["answered"] == 0 and rows["blend"]["hit_rate"] == 0.0
        assert rows["blend_without_rules"]["kind"] == "blend"
        assert rows["blend_without_rules"]["hit_rate"] > 0
    nb, ib = _by_name(report["next_basket"]), _by_name(report["in_basket"])
    assert nb["blend_without_rules"]["recall"] == nb["buy_again"]["recall"]
    assert ib["blend_without_rules"]["hit_rate"] == ib["bought_together"]["hit_rate"]
    goals = report["goals"]
    assert goals["next_basket_recall"]["met"] is False
    assert goals["next_basket_recall"]["blend_without_rules"] == nb["buy_again"]["recall"]
    assert goals["in_basket_hit_rate"]["blend_without_rules"] == \
        ib["bought_together"]["hit_rate"]


def test_evaluation_is_deterministic_and_bounded(store: Store, kit: Any, host: Any) -> None:
    replenishing_merchant(store, kit)

    def run(**options: Any) -> dict[str, Any]:
        report = evaluate(host, store, RecoSettings(), lambda: kit.now, k=2, **options)
        report.pop("seconds")
        return report

    assert run(seed=1) == run(seed=1)
    sampled = run(sample=5, seed=1)
    assert sampled["next_basket"]["evaluated"] == sampled["in_basket"]["evaluated"] == 5
    assert sampled["next_basket"]["cases"] == 20
    assert all(row["cases"] == 5 for row in sampled["next_basket"]["results"])


def test_reco_evaluate_command_prints_a_table_or_one_json_document(
        store: Store, kit: Any, host: Any, tmp_path: Path) -> None:
    replenishing_merchant(store, kit)
    config = tmp_path / "shoploop.toml"
    config.write_text(f'[store]\nurl = "{store.url}"\n')
    runner = CliRunner()
    shown = runner.invoke(build_app(host), ["-c", str(config), "reco", "evaluate", "--json",
                                            "--k", "1", "--sample", "7"])
    assert shown.exit_code == 0, shown.output
    report = json.loads(shown.stdout)
    assert report["ok"] and report["k"] == 1 and report["next_basket"]["evaluated"] == 7
    table = runner.invoke(build_app(host), ["-c", str(config), "reco", "evaluate"])
    assert table.exit_code == 0, table.output
    assert "purchase_frequency" in table.output and "Recall@10" in table.output
    assert "basket_cosine" in table.output


def test_a_store_without_repeat_customers_has_nothing_to_meet(
        store: Store, kit: Any, host: Any) -> None:
    shop = kit.orders("shop", kit.shop_ids)
    shop.add("c1", 10, ["ESP-PRO-2", "DESC-500"])  # one basket each: nothing held out
    shop.add(None, 5, ["DESC-500"])
    kit.seed(store, products={"shop": kit.shop_products()}, orders=[shop])
    report = evaluate(host, store, RecoSettings(), lambda: kit.now)
    assert report["split"]["held_out_baskets"] == 0
    assert report["split"]["training_orders"] == 2
    assert report["next_basket"]["evaluated"] == report["in_basket"]["evaluated"] == 0
    assert report["goals"]["next_basket_recall"]["met"] is None
    assert report["goals"]["in_basket_hit_rate"]["met"] is None
