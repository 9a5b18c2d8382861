"""Unit tests: comparing values across systems (core/sync/_values.py) and validating the
``[sync]`` mapping (core/sync/_mapping.py) — every refusal names its key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shoploop._plugins import PluginHost
from shoploop.hooks import ConfigError
from shoploop.sync import SyncMapping, SyncSettings, resolve_mapping
from shoploop.sync._values import (
    as_attribute_value,
    canonical,
    current_value,
    is_empty,
    same,
)

# -- values -------------------------------------------------------------------------------------

texts = st.text(max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts,
                    st.floats(allow_nan=False, allow_infinity=False))
values = st.one_of(scalars, st.lists(texts, max_size=5))


@given(st.integers())
def test_an_int_equals_its_text_and_its_integral_float(number: int) -> None:
    # WooCommerce keeps meta values as text, Shopify as typed metafields.
    assert same(number, str(number))
    assert same(str(number), number)
    if abs(number) < 2**53:  # exactly representable as a float
        assert same(float(number), number)
        assert same(float(number), str(number))


@given(st.booleans())
def test_a_bool_equals_its_text_in_any_case(flag: bool) -> None:
    for text in (str(flag), str(flag).lower()):
        assert same(flag, text)
        assert same(text, flag)
    assert not same(flag, not flag)
    assert not same(flag, str(not flag))


@given(st.lists(texts, max_size=6), st.randoms())
def test_list_order_is_irrelevant(items: list[str], rnd: Any) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert same(items, shuffled)


@given(st.lists(st.integers(), min_size=1, max_size=5))
def test_lists_compare_by_their_items_text(items: list[int]) -> None:
    assert same(items, [str(i) for i in reversed(items)])
    assert not same(items, [*items, "extra"])  # a list with one more item differs


@given(values)
def test_canonical_is_idempotent_and_same_is_reflexive_and_symmetric(value: Any) -> None:
    assert canonical(canonical(value)) == canonical(value)
    assert same(value, value)
    assert same(value, canonical(value))


@given(values, values)
def test_same_is_symmetric(left: Any, right: Any) -> None:
    assert same(left, right) == same(right, left)


@pytest.mark.parametrize("empty", [None, "", []])
def test_empty_text_and_empty_lists_are_no_value(empty: Any) -> None:
    assert is_empty(empty)
    assert same(empty, None)
    assert not same(empty, "0")
    assert not same(empty, 0)
    assert not same(empty, False)


@given(texts.filter(lambda t: t not in ("True", "False")))
def test_text_is_compared_as_is(text: str) -> None:
    # Case and whitespace are the transforms' business, not the comparison's.
    assert canonical(text) == (text or None)
    if text != text.upper():
        assert not same(text, text.upper())


@given(values)
def test_as_attribute_value_gives_what_attribute_changes_accept(value: Any) -> None:
    result = as_attribute_value(value)
    assert result is None or isinstance(result, (str, bool, int, float, list))
    assert same(result, value)


def test_as_attribute_value_stringifies_other_objects() -> None:
    assert as_attribute_value({"a", "b"}) in (["a", "b"], ["b", "a"])
    assert as_attribute_value(Path("x")) == "x"


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=2, max_size=4, unique=True))
def test_tag_attributes_are_read_in_any_order(values_: list[str]) -> None:
    customer = {"tags": ["vip"] + [f"segment:{v}" for v in values_], "attributes": {}}
    found = current_value(customer, "segment")
    assert found == sorted(values_)
    assert same(found, list(reversed(values_)))


def test_current_value_prefers_attributes_then_fields_then_tags() -> None:
    customer = {"attributes": {"customer_group": "retail"}, "customer_number": "C1",
                "tags": ["customer_group:trade", "rank:gold"]}
    assert current_value(customer, "customer_group") == "retail"
    assert current_value(customer, "customer_number") == "C1"
    assert current_value(customer, "rank") == "gold"
    assert current_value(customer, "missing") is None


# -- mapping validation -------------------------------------------------------------------------

CONNECTIONS = {name: {"type": "files", "path": name} for name in ("erp", "shop", "woo")}


def resolve(host: PluginHost, sync: dict[str, Any], **narrow: Any) -> SyncMapping:
    from shoploop._config import parse_config

    config = parse_config({"connections": CONNECTIONS, "sync": sync}, host.connectors,
                          file="shoploop.toml", base_dir=Path("/nonexistent"))
    return resolve_mapping(config, SyncSettings.model_validate(sync), host.connectors,
                           host.transforms, **narrow)


def refused(host: PluginHost, sync: dict[str, Any], **narrow: Any) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        resolve(host, sync, **narrow)
    return caught.value


def test_a_valid_mapping_resolves_to_rules(host: PluginHost) -> None:
    mapping = resolve(host, {"attributes": {
        "customer_group": {"master": "erp", "targets": {"shop": {}, "woo": {
            "key": "group", "transform": "upper"}}},
        "sales_rep": {"master": "erp", "transform": "lower"},
        "lifecycle_stage": {"master": "derived", "targets": ["erp"]}}})
    assert [(r.attribute, r.target, r.key, len(r.steps)) for r in mapping.rules] == [
        ("customer_group", "shop", "customer_group", 0), ("customer_group", "woo", "group", 1),
        ("sales_rep", "shop", "sales_rep", 1), ("sales_rep", "woo", "sales_rep", 1),
        ("lifecycle_stage", "erp", "lifecycle_stage", 0)]
    assert mapping.link_master == "erp" and mapping.link_attribute == "customer_number"
    woo = next(r for r in mapping.rules if r.target == "woo" and r.attribute == "sales_rep")
    assert woo.apply("Reto Ammann") == "reto ammann"
    narrowed = resolve(host, {"attributes": {"a": {"master": "erp"},
                                             "b": {"master": "shop", "targets": ["erp"]}}},
                       only_from="erp", only_to=["woo"])
    assert [(r.attribute, r.target) for r in narrowed.rules] == [("a", "woo")]


names = st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True)


@given(attribute=names, master=names.filter(lambda n: n not in ("erp", "shop", "woo",
                                                                  "derived")))
def test_an_unknown_master_names_its_key(host: PluginHost, attribute: str,
                                         master: str) -> None:
    error = refused(host, {"attributes": {attribute: {"master": master}}})
    assert error.key == f"sync.attributes.{attribute}.master"
    assert repr(master) in str(error)


@given(attribute=names, target=names.filter(lambda n: n not in ("erp", "shop", "woo")))
def test_an_unknown_target_names_its_key(host: PluginHost, attribute: str,
                                         target: str) -> None:
    error = refused(host, {"attributes": {attribute: {"master": "erp",
                                                      "targets": ["shop", target]}}})
    assert error.key == f"sync.attributes.{attribute}.targets.{target}"


@pytest.mark.parametrize(("spec", "key", "words"), [
    ({"master": "erp", "transform": "lowr"}, "sync.attributes.x.transform",
     "did you mean 'lower'"),
    ({"master": "erp", "targets": {"shop": {"transform": "nope"}}},
     "sync.attributes.x.targets.shop.transform", "unknown transform 'nope'"),
    ({"master": "erp", "options": {"sep": ";"}}, "sync.attributes.x.options",
     "without a transform"),
    ({"master": "erp", "targets": ["erp"]}, "sync.attributes.x.targets.erp",
     "master and target"),
    ({"master": "shpo"}, "sync.attributes.x.master", "did you mean 'shop'"),
])
def test_refusals_name_the_key(host: PluginHost, spec: dict[str, Any], key: str,
                               words: str) -> None:
    error = refused(host, {"attributes": {"x": spec}})
    assert error.key == key
    assert words in str(error)


def test_two_attributes_to_one_key_of_a_target_are_refused(host: PluginHost) -> None:
    error = refused(host, {"attributes": {
        "group": {"master": "erp", "targets": ["shop"]},
        "segment": {"master": "erp", "targets": {"shop": {"key": "group"}}}}})
    assert error.key == "sync.attributes.segment.targets.shop"
    assert "'group'" in str(error) and "'segment'" in str(error)
    # The same key in two different targets is fine.
    resolve(host, {"attributes": {
        "group": {"master": "erp", "targets": ["shop"]},
        "segment": {"master": "erp", "targets": {"woo": {"key": "group"}}}}})


def test_create_missing_needs_a_creating_target_and_email_matching(
        host: PluginHost, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(CONNECTIONS, "store", {
        "type": "shopify", "shop": "example.myshopify.com", "api_version": "2026-10",
        "access_token_env": "SHOPLOOP_TEST_TOKEN"})
    mapping = resolve(host, {"attributes": {"a": {"master": "erp", "targets": ["store"]}},
                             "create_missing": ["store"]})
    assert mapping.create_missing == {"store"}
    error = refused(host, {"attributes": {"a": {"master": "erp", "targets": ["store"]}},
                           "create_missing": ["store", "shop"]})
    assert (error.key, "these can: store" in str(error)) == ("sync.create_missing[1]", True)
    error = refused(host, {"attributes": {"a": {"master": "erp", "targets": ["shop"]}},
                           "create_missing": ["store"]})
    assert error.key == "sync.create_missing[0]" and "target of no attribute" in str(error)
    error = refused(host, {"attributes": {"a": {"master": "erp", "targets": ["store"]}},
                           "match_keys": ["vat_id"], "create_missing": ["store"]})
    assert error.key == "sync.match_keys" and 'add "email"' in error.remedy
    # --to narrows the targets, and with them what is created
    narrowed = resolve(host, {"attributes": {"a": {"master": "erp", "targets": ["store", "woo"]}},
                              "create_missing": ["store"]}, only_to=["woo"])
    assert narrowed.create_missing == frozenset()


def test_other_refusals(host: PluginHost) -> None:
    assert refused(host, {}).key == "sync.attributes"
    error = refused(host, {"attributes": {"a": {"master": "erp"}}, "create_missing": ["shop"]})
    assert error.key == "sync.create_missing[0]"
    assert "'shop' (type 'files') cannot create customers" in str(error)
    error = refused(host, {"attributes": {"a": {"master": "erp"}},
                           "derived_from": ["erp", "nope"]})
    assert error.key == "sync.derived_from[1]"
    error = refused(host, {"attributes": {"customer_number": {"master": "shop",
                                                              "targets": ["erp"]}},
                           "link_master": "erp"})
    assert error.key == "sync.attributes.customer_number.targets.erp"
    # Writing the link's key into a shop that receives the link would flip it every run.
    error = refused(host, {"attributes": {
        "group": {"master": "erp", "targets": ["shop"]},
        "number": {"master": "erp", "targets": {"shop": {"key": "customer_number"}}}}})
    assert error.key == "sync.attributes.number.targets.shop"
    assert "holds the link" in str(error)
    assert refused(host, {"attributes": {"a": {"master": "erp"}}},
                   only_from="shop").key == "--from"
    assert refused(host, {"attributes": {"a": {"master": "erp", "targets": ["shop"]}}},
                   only_to=["woo"]).key == "--to"


@pytest.mark.parametrize(("sync", "key"), [
    ({"attributes": {"x": {"master": "erp", "policy": "loudest_wins"}}},
     "sync.attributes.x.policy"),
    ({"attributes": {"x": {"master": "erp", "colour": "red"}}}, "sync.attributes.x.colour"),
    ({"attributes": {"x": {"master": "erp", "targets": ["shop", "shop"]}}},
     "sync.attributes.x.targets"),
    ({"match_keys": ["email", "phone"]}, "sync.match_keys"),
])
def test_the_config_loader_refuses_malformed_tables_by_key(host: PluginHost,
                                                           sync: dict[str, Any],
                                                           key: str) -> None:
    from shoploop._config import parse_config

    with pytest.raises(ConfigError) as caught:
        parse_config({"connections": CONNECTIONS, "sync": sync}, host.connectors,
                     file="shoploop.toml", base_dir=Path("/nonexistent"))
    assert caught.value.key is not None and caught.value.key.startswith(key)


def test_a_person_bound_to_two_target_customers_is_ambiguous_not_missing() -> None:
    """Derived values go to the profile's own record in the target, else to the one its
    records are bound to; two candidates either way is ambiguous (reported), none is
    unmatched."""
    from shoploop.sync._plan import TargetIndex, derived_target

    shop = TargetIndex("shop", exists={"S1", "S2"})
    members = [("erp", "E1"), ("woo", "W1")]
    bindings = {("erp", "E1"): "i1", ("woo", "W1"): "i2"}
    assert derived_target(members, shop, bindings, {"i1": "S1"})[:2] == ("S1", "")
    found, status, why = derived_target(members, shop, bindings, {"i1": "S1", "i2": "S2"})
    assert (found, status) == (None, "ambiguous") and "2 customers" in why
    assert derived_target([*members, ("shop", "S1"), ("shop", "S2")], shop, {}, {})[:2] == (
        None, "ambiguous")
    assert derived_target(members, shop, {}, {})[:2] == (None, "unmatched")
