"""Attribute writes through /customers/batch, recommendations and reward coupons, against the
emulator over real sockets."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from shoploop.hooks import (
    AttributeChange,
    BatchLimitError,
    Recommendation,
    RewardSpec,
    WriteStatus,
)
from shoploop.plugins.woocommerce import WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]


def customers(count: int) -> list[dict[str, object]]:
    return [{"id": f"C{i}", "email": f"c{i}@example.com", "first_name": "Zoë",
             "attributes": {"industry": "food"}} for i in range(count)]


def write_all(connector: WooCommerceConnector, changes: list[AttributeChange]) -> list[str]:
    statuses = []
    size = connector.attribute_batch_size
    for start in range(0, len(changes), size):
        results = connector.write_customer_attributes(changes[start:start + size])
        statuses += [r.status.value for r in results]
    return statuses


def test_meta_of_other_plugins_is_not_clobbered(start_emulator: Start,
                                                woo_connect: Connect) -> None:
    emulator = start_emulator(customers=customers(3))
    record = emulator.data.customers[1]
    record["meta_data"].append({"id": 9001, "key": "_other_plugin", "value": "keep me"})
    industry_id = next(m["id"] for m in record["meta_data"] if m["key"] == "shoploop_industry")
    connector = woo_connect(emulator)
    results = connector.write_customer_attributes([
        AttributeChange(customer_id="1", key="industry", new="machinery"),
        AttributeChange(customer_id="1", key="lifecycle_stage", new="retention"),
        AttributeChange(customer_id="2", key="industry", new="food"),  # already there
        AttributeChange(customer_id="1", key="vip", new=True),
        AttributeChange(customer_id="3", key="orders_last_year", new=7),
    ])
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.WRITTEN,
                                           WriteStatus.UNCHANGED, WriteStatus.WRITTEN,
                                           WriteStatus.WRITTEN]
    meta = {m["key"]: m for m in emulator.data.customers[1]["meta_data"]}
    assert meta["_other_plugin"]["value"] == "keep me"
    assert meta["shoploop_industry"] == {"id": industry_id, "key": "shoploop_industry",
                                         "value": "machinery"}
    assert meta["shoploop_vip"]["value"] == "1"  # WordPress stores scalars as strings
    assert emulator.stats.get("batch_requests") == 1
    # Typed values compare the way WordPress stores them: a rewrite is a no-op.
    again = connector.write_customer_attributes([
        AttributeChange(customer_id="1", key="vip", new=True),
        AttributeChange(customer_id="3", key="orders_last_year", new=7)])
    assert {r.status for r in again} == {WriteStatus.UNCHANGED}
    assert emulator.stats.get("batch_requests") == 1


def test_per_item_failures_are_reported_per_item(start_emulator: Start,
                                                 woo_connect: Connect) -> None:
    emulator = start_emulator(customers=customers(4))
    emulator.app.locked.add(2)
    connector = woo_connect(emulator)
    results = connector.write_customer_attributes([
        AttributeChange(customer_id=str(i), key="segment", new="vip") for i in (1, 2, 3)
    ] + [AttributeChange(customer_id="999", key="segment", new="vip"),
         AttributeChange(customer_id="not-a-number", key="segment", new="vip")])
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.FAILED,
                                           WriteStatus.WRITTEN, WriteStatus.FAILED,
                                           WriteStatus.FAILED]
    assert "woocommerce_rest_cannot_edit" in results[1].message
    assert "no such customer" in results[3].message


def test_over_the_limit_writes_nothing(start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=customers(2))
    connector = woo_connect(emulator)
    changes = [AttributeChange(customer_id="1", key=f"k{i}", new=i) for i in range(101)]
    with pytest.raises(BatchLimitError):
        connector.write_customer_attributes(changes)
    assert emulator.stats.get("requests") == 0


@pytest.mark.slow
def test_5000_customers_full_batches_and_connection_reuse(start_emulator: Start,
                                                          woo_connect: Connect) -> None:
    emulator = start_emulator(customers=customers(5000))
    connector = woo_connect(emulator)
    changes = [AttributeChange(customer_id=str(i), key="lifecycle_stage", new="retention")
               for i in range(1, 5001)]
    assert set(write_all(connector, changes)) == {"written"}
    stats = emulator.stats.snapshot()
    assert stats["batch_requests"] <= math.ceil(len(changes) / 100) == 50
    assert stats["connections"] <= 2, stats  # one pooled keep-alive connection, not 100
    # Half of them change again: only those are sent, still in full batches.
    edited = [c.model_copy(update={"new": "advocacy"}) if i % 2 else c
              for i, c in enumerate(changes)]
    statuses = write_all(connector, edited)
    assert statuses.count("written") == 2500 and statuses.count("unchanged") == 2500
    assert emulator.stats.get("batch_requests") - stats["batch_requests"] <= 50
    assert max(emulator.data.meta_changes.values()) == 2
    connector.close()


@pytest.mark.slow
def test_faults_at_5_percent_end_in_the_exact_state(start_emulator: Start,
                                                    woo_connect: Connect) -> None:
    emulator = start_emulator(customers=customers(5000), fault_rate=0.05, fault_seed=7,
                              lost_answers=0.05)
    connector = woo_connect(emulator)
    changes = [AttributeChange(customer_id=str(i), key="rfm_segment", new=f"s{i % 7}")
               for i in range(1, 5001)]
    assert set(write_all(connector, changes)) == {"written"}
    stats = emulator.stats.snapshot()
    assert stats["faulted"] + stats["throttled"] > 0  # the faults really happened
    assert stats["lost_answers"] > 0  # some batches were applied, answered 502, and resent
    for number, record in emulator.data.customers.items():
        values = [m["value"] for m in record["meta_data"] if m["key"] == "shoploop_rfm_segment"]
        assert values == [f"s{number % 7}"]
        assert emulator.data.meta_changes[(number, "shoploop_rfm_segment")] == 1
    assert set(write_all(connector, changes)) == {"unchanged"}


def test_publish_recommendations_into_upsell_and_cross_sell(start_emulator: Start,
                                                            woo_connect: Connect) -> None:
    products = [{"id": f"P{i}", "name": f"Product {i}", "price": "10.00"} for i in range(5)]
    emulator = start_emulator(products=products)
    connector = woo_connect(emulator)
    recs = [Recommendation(product_id="3", score=0.9, kind="upsell", strategy="s", reason="r"),
            Recommendation(product_id="4", score=0.5, kind="cross_sell", strategy="s",
                           reason="r"),
            Recommendation(product_id="2", score=0.8, kind="complementary", strategy="s",
                           reason="r")]
    assert connector.publish_recommendations("1", recs).status == WriteStatus.WRITTEN
    product = emulator.data.products[1]
    assert (product["upsell_ids"], product["cross_sell_ids"]) == ([3], [2, 4])
    assert connector.publish_recommendations("1", recs).status == WriteStatus.UNCHANGED
    page = connector.read_products()
    first = next(p for p in page.items if p.id == "1")
    assert first.attributes["cross_sell_ids"] == ["2", "4"]


def test_reward_coupon_is_email_restricted_and_idempotent(start_emulator: Start,
                                                          woo_connect: Connect) -> None:
    emulator = start_emulator(customers=customers(1))
    connector = woo_connect(emulator)
    spec = RewardSpec(kind="coupon", idempotency_key="referral-42-reward",
                      recipient_email="advocate@example.com", amount=Decimal("15.00"),
                      expires_at=datetime(2027, 1, 31, 23, 0, tzinfo=UTC))
    first = connector.issue_reward(spec)
    assert connector.issue_reward(spec) == first
    assert len(emulator.data.coupons) == 1
    coupon = next(iter(emulator.data.coupons.values()))
    assert coupon["email_restrictions"] == ["advocate@example.com"]
    assert (coupon["usage_limit"], coupon["usage_limit_per_user"]) == (1, 1)
    assert coupon["individual_use"] is True and coupon["amount"] == "15.00"
    assert coupon["discount_type"] == "fixed_cart"
    assert coupon["date_expires_gmt"] == "2027-01-31T23:00:00"
    assert first.reference == coupon["code"] and first.reference.startswith("sl-")
    assert connector.find_reward("referral-42-reward") == first
    assert connector.find_reward("never-issued-key") is None


def test_reward_create_lost_answer_is_found_again(start_emulator: Start,
                                                  woo_connect: Connect) -> None:
    """A create whose answer was lost is retried; the code exists then, and the retry finds
    it instead of creating a second coupon."""
    emulator = start_emulator(customers=customers(1))
    connector = woo_connect(emulator)
    spec = RewardSpec(kind="coupon", idempotency_key="referral-43-reward",
                      recipient_email="a@example.com", percentage=10)
    emulator.data.add_coupon({"code": connector.reward_code(spec.idempotency_key)})
    # The lookup happens first, so the existing coupon is simply returned.
    assert connector.issue_reward(spec).reference == connector.reward_code("referral-43-reward")
    assert len(emulator.data.coupons) == 1


def test_publish_for_many_products_in_one_batch(start_emulator: Start,
                                                woo_connect: Connect) -> None:
    products = [{"id": f"P{i}", "name": f"Product {i}", "price": "10.00"} for i in range(6)]
    emulator = start_emulator(products=products)
    connector = woo_connect(emulator)

    def rec(pid: str, kind: str = "cross_sell") -> Recommendation:
        return Recommendation(product_id=pid, score=1.0, kind=kind,  # type: ignore[arg-type]
                              strategy="s", reason="bought together")

    wanted = {"1": [rec("2"), rec("3", "upsell")], "2": [rec("1")], "404": [rec("1")],
              "x": [rec("1")], "3": []}
    results = connector.publish_recommendations_batch(wanted)
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.WRITTEN,
                                           WriteStatus.FAILED, WriteStatus.FAILED,
                                           WriteStatus.UNCHANGED]
    assert emulator.stats.get("batch_requests") == 1
    assert emulator.data.products[2]["cross_sell_ids"] == [1]
    again = connector.publish_recommendations_batch({"1": wanted["1"], "2": wanted["2"]})
    assert {r.status for r in again} == {WriteStatus.UNCHANGED}
    assert emulator.stats.get("batch_requests") == 1


def test_emulator_stores_cross_sell_and_upsell_ids_like_woocommerce(
        start_emulator: Start, woo_connect: Connect) -> None:
    """Positive integers, each once, in order; ids naming no product are kept (WooCommerce's
    REST controller and ``WC_Product::set_cross_sell_ids`` do not check them)."""
    products = [{"id": f"P{i}", "name": f"Product {i}", "price": "10.00"} for i in range(3)]
    emulator = start_emulator(products=products)
    connector = woo_connect(emulator)
    answer = connector.client.post("products/batch", {"update": [
        {"id": 1, "cross_sell_ids": [3, "2", 3, 0, -4, "x", 999], "upsell_ids": []}]},
        operation="test")
    assert answer.data["update"][0]["cross_sell_ids"] == [3, 2, 999]
    assert emulator.data.products[1]["cross_sell_ids"] == [3, 2, 999]
    assert emulator.data.product_list_writes[1] == 1
    lists = {"1": {"cross_sell_ids": ["3", "2", "999"], "upsell_ids": []}}
    assert connector.publish_recommendation_lists(lists)[0].status == WriteStatus.UNCHANGED
    assert emulator.data.product_list_writes[1] == 1


def test_reward_whose_answer_was_lost_is_not_issued_twice(start_emulator: Start,
                                                          woo_connect: Connect) -> None:
    """The coupon is created but the answer lost (502): the retry meets "code already
    exists" and the adapter returns the coupon that was created — one coupon, not two."""
    emulator = start_emulator(customers=customers(1), lost_answers=1.0)
    connector = woo_connect(emulator)
    spec = RewardSpec(kind="coupon", idempotency_key="referral-44-reward",
                      recipient_email="a@example.com", amount=Decimal("5"))
    issued = connector.issue_reward(spec)
    assert len(emulator.data.coupons) == 1 and emulator.stats.get("lost_answers") == 1
    assert issued.reference == next(iter(emulator.data.coupons.values()))["code"]


class ReadChange(AttributeChange):
    """A change whose caller read ``old`` from WooCommerce (the sync's writer sets
    ``expect_old``; declared here too, so this test does not depend on who adds it first)."""

    expect_old: bool = True


def test_a_value_changed_since_it_was_read_is_not_overwritten(start_emulator: Start,
                                                              woo_connect: Connect) -> None:
    """WooCommerce has no compare-and-set: the batch's customers are read just before the
    write, and a value someone else changed since the caller read ``old`` stays theirs."""
    emulator = start_emulator(customers=customers(4))
    connector = woo_connect(emulator)
    meta = {n: {m["key"]: m for m in emulator.data.customers[n]["meta_data"]} for n in (1, 2)}
    assert meta[1]["shoploop_industry"]["value"] == meta[2]["shoploop_industry"]["value"] == \
        "food"
    # Someone edits customer 2's industry (and adds customer 4's vip flag) after our import.
    emulator.app._update("customers", {"id": 2, "meta_data": [
        {"key": "shoploop_industry", "value": "chosen by the admin"}]})
    emulator.app._update("customers", {"id": 4, "meta_data": [
        {"key": "shoploop_vip", "value": "0"}]})
    results = connector.write_customer_attributes([
        ReadChange(customer_id="1", key="industry", new="machinery", old="food"),
        ReadChange(customer_id="2", key="industry", new="machinery", old="food"),
        ReadChange(customer_id="3", key="vip", new=True, old=None),
        ReadChange(customer_id="4", key="vip", new=True, old=None),
        ReadChange(customer_id="3", key="industry", new="food", old="retail"),  # already new
    ])
    assert [r.status for r in results] == [
        WriteStatus.WRITTEN, WriteStatus.CONFLICT, WriteStatus.WRITTEN, WriteStatus.CONFLICT,
        WriteStatus.UNCHANGED]
    assert "not overwritten" in results[1].message and "chosen by the admin" in results[1].message
    held = {n: {m["key"]: m["value"] for m in emulator.data.customers[n]["meta_data"]}
            for n in (1, 2, 3, 4)}
    assert held[1]["shoploop_industry"] == "machinery"
    assert held[2]["shoploop_industry"] == "chosen by the admin"
    assert (held[3]["shoploop_vip"], held[4]["shoploop_vip"]) == ("1", "0")
    # A caller that did not read the value (no expect_old) writes as before: last writer wins.
    plain = connector.write_customer_attributes([
        AttributeChange(customer_id="2", key="industry", new="machinery")])
    assert plain[0].status is WriteStatus.WRITTEN
    assert emulator.data.meta_changes[(2, "shoploop_industry")] == 2  # the admin's and ours
