"""Attribute writes, recommendations and rewards against the emulator over real sockets."""

from __future__ import annotations

import json
import math

import pytest

from shoploop.hooks import AttributeChange, Recommendation, RewardSpec, WriteStatus
from shoploop.plugins.shopify._connector import RECOMMENDATION_NAMESPACE
from shoploop.plugins.shopify.emulator import numeric_id
from shoploop.testing import make_dataset


@pytest.fixture
def shop(emulator):
    dataset = make_dataset(customers=40, products=6, orders=5)
    emulator.data.load(customers=dataset.customers, products=dataset.products,
                       orders=dataset.orders)
    ids = [str(numeric_id("Customer", c.id)) for c in dataset.customers]
    products = [str(numeric_id("Product", p.id)) for p in dataset.products]
    return emulator, ids, products


def _changes(ids, keys, value="v"):
    return [AttributeChange(customer_id=i, key=k, new=f"{value}-{i}-{k}") for i in ids
            for k in keys]


def test_only_changed_values_are_written_in_full_25_batches(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator)
    first = _changes(ids, ["ka", "kb", "kc"])[:100]
    assert {r.status for r in connector.write_customer_attributes(first)} == {
        WriteStatus.WRITTEN}
    assert emulator.stats.get("calls.metafieldsSet") == math.ceil(100 / 25)
    # 250 changes, of which the first 100 are already there: ceil(150 / 25) calls.
    batch = _changes(ids, ["ka", "kb", "kc", "kd", "ke", "kf", "kg"])[:250]
    before = emulator.stats.get("calls.metafieldsSet")
    results = connector.write_customer_attributes(batch)
    statuses = [r.status for r in results]
    assert statuses.count(WriteStatus.UNCHANGED) == 100
    assert statuses.count(WriteStatus.WRITTEN) == 150
    assert emulator.stats.get("calls.metafieldsSet") - before == math.ceil(150 / 25)
    again = emulator.stats.get("calls.metafieldsSet")
    assert {r.status for r in connector.write_customer_attributes(batch)} == {
        WriteStatus.UNCHANGED}
    assert emulator.stats.get("calls.metafieldsSet") == again


def test_typed_values_round_trip_and_none_deletes(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator)
    values = {"count": 7, "rate": 0.125, "vip": True, "segments": ["rfm-high", "neu, ü"],
              "note": "zwei\nZeilen", "label": "Müller \"KG\"; 42"}
    changes = [AttributeChange(customer_id=ids[0], key=k, new=v) for k, v in values.items()]
    assert all(r.status == WriteStatus.WRITTEN
               for r in connector.write_customer_attributes(changes))
    customer = _read_customer(connector, ids[0])
    assert {k: customer.attributes[k] for k in values} == values
    # A changed type (int → str) and None (delete) are both written.
    edits = [AttributeChange(customer_id=ids[0], key="count", new="seven"),
             AttributeChange(customer_id=ids[0], key="vip", new=None)]
    assert [r.status for r in connector.write_customer_attributes(edits)] == [
        WriteStatus.WRITTEN, WriteStatus.WRITTEN]
    customer = _read_customer(connector, ids[0])
    assert customer.attributes["count"] == "seven" and "vip" not in customer.attributes


def _read_customer(connector, customer_id):
    cursor, found = None, None
    while True:
        page = connector.read_customers(cursor)
        found = next((c for c in page.items if c.id == customer_id), found)
        if not page.has_more:
            return found
        cursor = page.cursor


def test_tag_attributes_use_tags_add_and_remove_and_keep_other_tags(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator, tag_attributes=["segment"])
    gid = f"gid://shopify/Customer/{ids[1]}"
    emulator.data.customers[gid]["tags"] = ["manual", "segment:old"]
    result = connector.write_customer_attributes(
        [AttributeChange(customer_id=ids[1], key="segment", new=["vip", "b2b"])])
    assert result[0].status == WriteStatus.WRITTEN
    assert emulator.data.customers[gid]["tags"] == ["manual", "segment:b2b", "segment:vip"]
    assert emulator.stats.get("calls.tagsAdd") == 1 and emulator.stats.get("calls.tagsRemove") == 1
    again = connector.write_customer_attributes(
        [AttributeChange(customer_id=ids[1], key="segment", new=["b2b", "vip"])])
    assert again[0].status == WriteStatus.UNCHANGED


def test_a_value_changed_by_someone_else_is_a_conflict(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator)
    connector.write_customer_attributes([AttributeChange(customer_id=ids[2], key="tier",
                                                         new="silver")])
    execute = connector.client.execute

    def interfering(query, variables=None, *, operation, retries=None):
        answer = execute(query, variables, operation=operation, retries=retries)
        if query.startswith("query CurrentValues"):  # another app writes in between
            emulator.run('mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/'
                         f'Customer/{ids[2]}", namespace: "shoploop", key: "tier", '
                         'type: "single_line_text_field", value: "platinum"}]) '
                         '{ userErrors { message } } }', {})
        return answer

    connector.client.execute = interfering  # type: ignore[method-assign]
    result = connector.write_customer_attributes(
        [AttributeChange(customer_id=ids[2], key="tier", new="gold")])
    assert result[0].status == WriteStatus.CONFLICT
    metafield = emulator.data.customers[f"gid://shopify/Customer/{ids[2]}"]["_metafields"]
    assert metafield[("shoploop", "tier")]["value"] == "platinum"


def test_unknown_customer_and_bad_key_fail_per_item(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator)
    results = connector.write_customer_attributes([
        AttributeChange(customer_id="1", key="tier", new="x"),
        AttributeChange(customer_id=ids[3], key="bad key!", new="x"),
        AttributeChange(customer_id=ids[3], key="tier", new="x")])
    assert [r.status for r in results] == [WriteStatus.FAILED, WriteStatus.FAILED,
                                           WriteStatus.WRITTEN]


def test_recommendations_go_into_search_and_discovery_metafields(shop, connect):
    emulator, _, products = shop
    connector = connect(emulator)
    recommendations = [
        Recommendation(product_id=products[1], score=0.9, kind="cross_sell", strategy="s",
                       reason="bought together"),
        Recommendation(product_id=products[2], score=0.5, kind="upsell", strategy="s",
                       reason="premium"),
        Recommendation(product_id=products[3], score=0.95, kind="complementary", strategy="s",
                       reason="fits")]
    assert connector.publish_recommendations(products[0], recommendations).status == \
        WriteStatus.WRITTEN
    owner = emulator.data.products[f"gid://shopify/Product/{products[0]}"]["_metafields"]
    complementary = owner[(RECOMMENDATION_NAMESPACE, "complementary_products")]
    assert complementary["type"] == "list.product_reference"
    assert json.loads(complementary["value"]) == [f"gid://shopify/Product/{products[3]}",
                                                  f"gid://shopify/Product/{products[1]}"]
    assert json.loads(owner[(RECOMMENDATION_NAMESPACE, "related_products")]["value"]) == [
        f"gid://shopify/Product/{products[2]}"]
    assert connector.publish_recommendations(products[0], recommendations).status == \
        WriteStatus.UNCHANGED


def test_publish_lists_in_batches_refuses_missing_products_and_deletes_emptied_lists(
        shop, connect):
    emulator, _, products = shop
    connector = connect(emulator)
    a, b, c, d = products[:4]
    first = connector.publish_recommendation_lists({
        a: {"complementary_products": [b, c], "related_products": [d]},
        b: {"complementary_products": ["999999"], "related_products": []},  # no such product
        c: {"complementary_products": [a], "related_products": []},
        "424242": {"complementary_products": [a], "related_products": []}})
    assert [r.status for r in first] == [WriteStatus.WRITTEN, WriteStatus.FAILED,
                                         WriteStatus.WRITTEN, WriteStatus.FAILED]
    # Shopify refuses the reference like this; the call is atomic, so the others were sent
    # again without the refused product.
    assert first[1].message == "Value references non-existent resource " \
                               "gid://shopify/Product/999999."
    assert emulator.stats.get("calls.metafieldsSet") == 2
    held = emulator.data.products[f"gid://shopify/Product/{a}"]["_metafields"]
    assert json.loads(held[(RECOMMENDATION_NAMESPACE, "related_products")]["value"]) == [
        f"gid://shopify/Product/{d}"]
    assert (RECOMMENDATION_NAMESPACE, "complementary_products") not in \
        emulator.data.products[f"gid://shopify/Product/{b}"]["_metafields"]
    # An emptied list is deleted (an empty list.product_reference is refused); the unchanged
    # one is not written again.
    emptied = connector.publish_recommendation_lists(
        {a: {"complementary_products": [b, c], "related_products": []}})
    assert emptied[0].status == WriteStatus.WRITTEN and emptied[0].fields == [
        "related_products"]
    assert (RECOMMENDATION_NAMESPACE, "related_products") not in held
    assert emulator.data.metafield_writes[(f"gid://shopify/Product/{a}",
                                           RECOMMENDATION_NAMESPACE,
                                           "complementary_products")] == 1
    assert connector.publish_recommendation_lists(
        {a: {"complementary_products": [b, c], "related_products": []}})[0].status == \
        WriteStatus.UNCHANGED


def test_rewards_are_discount_codes_idempotent_by_code(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator)
    spec = RewardSpec(kind="discount_code", idempotency_key="referral-0001",
                      recipient_customer_id=ids[0], amount="15.00")
    first = connector.issue_reward(spec)
    assert first.reference.startswith("SL-") and first.kind == "discount_code"
    assert connector.issue_reward(spec).reference == first.reference
    assert emulator.stats.get("calls.discountCodeBasicCreate") == 1
    node = emulator.data.discounts[emulator.data.codes[first.reference]]["codeDiscount"]
    assert node["usageLimit"] == 1 and node["appliesOncePerCustomer"]
    assert node["_spec"]["context"] == {"customers": {"add": [f"gid://shopify/Customer/"
                                                               f"{ids[0]}"]}}
    found = connector.find_reward("referral-0001")
    assert found is not None and found.reference == first.reference


def test_a_taken_code_is_looked_up_not_duplicated(shop, connect):
    """Two workers racing: the lookup saw nothing, the create answers TAKEN → same reward."""
    emulator, _, _ = shop
    connector = connect(emulator)
    spec = RewardSpec(kind="discount_code", idempotency_key="race-0001", percentage=10,
                      code="THANKYOU-ANNA")
    other = connect(emulator)
    other.issue_reward(spec)
    execute = connector.client.execute
    calls = []

    def first_lookup_misses(query, variables=None, *, operation, retries=None):
        calls.append(operation)
        if query.startswith("query DiscountByCode") and calls.count("find_reward") == 1:
            return {"codeDiscountNodeByCode": None}
        return execute(query, variables, operation=operation, retries=retries)

    connector.client.execute = first_lookup_misses  # type: ignore[method-assign]
    assert connector.issue_reward(spec).reference == "THANKYOU-ANNA"
    assert len(emulator.data.discounts) == 1


def test_more_than_25_keys_in_one_batch_are_all_compared(shop, connect):
    emulator, ids, _ = shop
    connector = connect(emulator)
    changes = [AttributeChange(customer_id=ids[4], key=f"key_{n:02d}", new=n) for n in range(30)]
    assert {r.status for r in connector.write_customer_attributes(changes)} == {
        WriteStatus.WRITTEN}
    calls = emulator.stats.get("calls.metafieldsSet")
    assert {r.status for r in connector.write_customer_attributes(changes)} == {
        WriteStatus.UNCHANGED}
    assert emulator.stats.get("calls.metafieldsSet") == calls == 2


def _other_app_sets(emulator, customer_id, key, value):
    answer = emulator.run(
        'mutation { metafieldsSet(metafields: [{ownerId: "gid://shopify/Customer/'
        f'{customer_id}", namespace: "shoploop", key: "{key}", type: '
        f'"single_line_text_field", value: "{value}"}}]) {{ userErrors {{ message }} }} }}', {})
    assert answer["data"]["metafieldsSet"]["userErrors"] == []


def test_after_an_import_writes_send_its_digests_and_read_nothing(shop, connect, record_sent):
    emulator, ids, _ = shop
    for customer_id in ids[:3]:
        _other_app_sets(emulator, customer_id, "tier", f"was-{customer_id}")
    connector = connect(emulator)
    _read_customer(connector, ids[0])  # the import: every customer, with digests
    # Between our import and our write another app changes one of the values we will write.
    _other_app_sets(emulator, ids[1], "tier", "platinum")
    sent = record_sent(connector)
    changes = [AttributeChange(customer_id=i, key="tier", new="gold", old=f"was-{i}")
               for i in ids[:3]]
    changes.append(AttributeChange(customer_id=ids[5], key="tier", new="new"))
    results = connector.write_customer_attributes(changes)
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.CONFLICT,
                                           WriteStatus.WRITTEN, WriteStatus.WRITTEN]
    held = emulator.data.customers
    assert held[f"gid://shopify/Customer/{ids[1]}"]["_metafields"][("shoploop", "tier")][
        "value"] == "platinum"  # never overwritten
    assert held[f"gid://shopify/Customer/{ids[0]}"]["_metafields"][("shoploop", "tier")][
        "value"] == "gold"
    first = next(v for head, v in sent if head.startswith("mutation MetafieldsSet"))
    digests = {m["ownerId"].rsplit("/", 1)[1]: m["compareDigest"] for m in first["metafields"]}
    assert digests[ids[5]] is None  # did not exist: must still not exist
    assert digests[ids[0]] is not None
    # No read before the write; after the refusal only the refused customer is read again.
    reads = [v for head, v in sent if head.startswith("query CurrentValues")]
    assert [r["ids"] for r in reads] == [[f"gid://shopify/Customer/{ids[1]}"]]
    # Another key of a customer we just wrote: still known (absent), nothing read.
    sent.clear()
    other = connector.write_customer_attributes(
        [AttributeChange(customer_id=ids[2], key="since", new="2024"),
         AttributeChange(customer_id=ids[3], key="tier", new="bronze")])
    assert [r.status for r in other] == [WriteStatus.WRITTEN, WriteStatus.WRITTEN]
    assert not [head for head, _ in sent if head.startswith("query CurrentValues")]
    # Our own writes' values are known, their new digests are not: that key is read first.
    again = connector.write_customer_attributes(
        [AttributeChange(customer_id=ids[0], key="tier", new="gold")])
    assert again[0].status == WriteStatus.UNCHANGED
    assert [head for head, _ in sent if head.startswith("query CurrentValues")]


def test_an_outdated_digest_over_the_planned_value_is_decided_again(shop, connect,
                                                                   record_sent):
    emulator, ids, _ = shop
    connector = connect(emulator)
    _other_app_sets(emulator, ids[4], "tier", "before")
    _read_customer(connector, ids[4])
    # The import's digest is outdated, but the value now is the one the caller planned from
    # (its mirror is newer than this connector's read): refused, re-read, sent again.
    _other_app_sets(emulator, ids[4], "tier", "planned-from")
    sent = record_sent(connector)
    results = connector.write_customer_attributes(
        [AttributeChange(customer_id=ids[4], key="tier", new="after", old="planned-from")])
    assert results[0].status == WriteStatus.WRITTEN, results[0].message
    metafield = emulator.data.customers[f"gid://shopify/Customer/{ids[4]}"]["_metafields"]
    assert metafield[("shoploop", "tier")]["value"] == "after"
    assert [head.split("(")[0] for head, _ in sent] == [
        "mutation MetafieldsSet", "query CurrentValues", "mutation MetafieldsSet"]
