"""Experiments at serving time, over a real socket on both store backends: each customer gets
its hashed variant, the variant changes the answer (k, hold-out, strategy blend, rule set),
the first exposure is stored, and events are counted for the stored arm."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from shoploop._config import Config
from shoploop._plugins import PluginHost
from shoploop.experiments import assign
from shoploop.store import Store, WebEventRecord, experiment_assignments
from shoploop.web import create_app

Served = Callable[[Any], AbstractContextManager[str]]
NOW = datetime(2026, 12, 4, 9, tzinfo=UTC)
VARIANTS = [
    {"name": "control", "share": 0.25},
    {"name": "k1", "share": 0.25, "k": 1},
    {"name": "off", "share": 0.25, "placement_enabled": False},
    {"name": "no_pairs", "share": 0.25, "blend": {"bought_together": 0}},
]


def _config(make_config: Callable[[dict[str, Any]], Config], store: Store,
            **experiment: Any) -> Config:
    return make_config({
        "store": {"url": store.url}, "web": {"storefront": {"model_check_seconds": 0}},
        "experiments": {"k_test": {"unit": "customer", "placements": ["product_page"],
                                   "start": NOW - timedelta(days=1), "variants": VARIANTS,
                                   **experiment}}})


def test_each_customer_is_served_its_variant(
        store: Store, web_host: PluginHost, served: Served,
        make_config: Callable[[dict[str, Any]], Config],
        storefront_seed: Callable[..., int]) -> None:
    storefront_seed(store, web_host)
    config = _config(make_config, store)
    settings = config.experiments["k_test"]
    app = create_app(web_host, config, store, clock=lambda: NOW)
    by_variant: dict[str, str] = {}
    for n in range(200):  # one customer per variant
        by_variant.setdefault(assign("k_test", settings, f"shop/new-{n}"), f"new-{n}")
    assert set(by_variant) == {v["name"] for v in VARIANTS}
    with served(app) as base, httpx.Client(base_url=base) as client:
        def ask(customer: str | None, **extra: str) -> dict[str, Any]:
            params = {"connection": "shop", "product": "101", "k": "3", **extra}
            if customer:
                params["customer"] = customer
            answer = client.get("/api/v1/recommendations", params=params)
            assert answer.status_code == 200, answer.text
            body: dict[str, Any] = answer.json()
            return body

        answers = {variant: ask(customer) for variant, customer in by_variant.items()}
        for variant, body in answers.items():
            assert body["experiment"] == {"name": "k_test", "variant": variant}
        control = answers["control"]["recommendations"]
        assert len(control) >= 2
        assert any(r["strategy"] == "bought_together" for r in control)
        assert [r["product_id"] for r in answers["k1"]["recommendations"]] == [
            control[0]["product_id"]]
        assert answers["off"]["recommendations"] == []
        blended = answers["no_pairs"]["recommendations"]
        assert all(r["strategy"] != "bought_together" for r in blended)
        # the same customer again: the same arm (from memory now, the store row unchanged)
        assert ask(by_variant["k1"])["experiment"]["variant"] == "k1"
        # no customer: not a unit of this experiment, served as without it, not counted
        anonymous = ask(None)
        assert anonymous["experiment"] is None
        assert [r["product_id"] for r in anonymous["recommendations"]] == [
            r["product_id"] for r in control]
        # another placement is not in the experiment
        assert ask(by_variant["off"], placement="cart")["experiment"] is None

        events = [
            {"event_id": "ev-control-1", "type": "impression", "connection": "shop",
             "placement": "product_page", "product_id": control[0]["product_id"],
             "experiment": "k_test", "customer": by_variant["control"]},
            # a reporter claiming the experiment for a customer never exposed: not counted
            {"event_id": "ev-stranger", "type": "click", "connection": "shop",
             "placement": "product_page", "product_id": "102", "experiment": "k_test",
             "customer": "never-seen"},
            {"event_id": "ev-plain-01", "type": "click", "connection": "shop",
             "placement": "cart", "product_id": "102"},
        ]
        posted = client.post("/api/v1/events", json={"events": events})
        assert posted.status_code == 202, posted.text
        assert posted.json()["stored"] == 3

    with store.session() as session:
        stored = {a.unit_key: a for a in experiment_assignments(session, "k_test")}
        tags = dict(session.execute(select(
            WebEventRecord.event_id,
            WebEventRecord.variant + "@" + WebEventRecord.unit_key)).all())
    assert set(stored) == {f"shop/{customer}" for customer in by_variant.values()}
    assert all(a.first_exposed_at == NOW and a.unit_kind == "customer"
               for a in stored.values())
    assert {key: a.variant for key, a in stored.items()} == {
        f"shop/{customer}": variant for variant, customer in by_variant.items()}
    assert tags == {"ev-control-1": f"control@shop/{by_variant['control']}",
                    "ev-stranger": None, "ev-plain-01": None}


def test_a_variant_may_rank_with_another_placements_rules(
        store: Store, web_host: PluginHost, served: Served,
        make_config: Callable[[dict[str, Any]], Config],
        storefront_seed: Callable[..., int]) -> None:
    """``rules = "strict"``: the rules of [reco.placements.strict] (blocking the descaler
    here) rank the arm's answer; the answer still names its own placement."""
    from shoploop.reco import build_model

    storefront_seed(store, web_host)
    strict = {"strict": {"rules": {"manual": [{"product": "102", "action": "block"}]}}}
    variants = [{"name": "control", "share": 0.5}, {"name": "strict", "share": 0.5,
                                                     "rules": "strict"}]
    config = make_config({
        "store": {"url": store.url}, "web": {"storefront": {"model_check_seconds": 0}},
        "reco": {"placements": strict},
        "experiments": {"rules_test": {"unit": "customer", "placements": ["product_page"],
                                       "variants": variants}}})
    build_model(web_host, store, config.reco, lambda: NOW)  # the model keeps its rules
    settings = config.experiments["rules_test"]
    by_variant: dict[str, str] = {}
    for n in range(50):
        by_variant.setdefault(assign("rules_test", settings, f"shop/new-{n}"), f"new-{n}")
    app = create_app(web_host, config, store, clock=lambda: NOW)
    with served(app) as base, httpx.Client(base_url=base) as client:
        answers = {variant: client.get("/api/v1/recommendations", params={
            "connection": "shop", "product": "101", "customer": customer}).json()
            for variant, customer in by_variant.items()}
    assert answers["control"]["recommendations"][0]["product_id"] == "102"
    assert "102" not in {r["product_id"] for r in answers["strict"]["recommendations"]}
    assert answers["strict"]["placement"] == "product_page"
    assert answers["strict"]["experiment"] == {"name": "rules_test", "variant": "strict"}
