"""Shopify's documented example payloads (tests/fixtures/platforms/shopify, sources in
sources.json) against the adapter's parsers and the emulator's answers: the parsers accept
them, and the emulator answers in the same shape (keys and JSON types), so neither side can
drift from the platform without a test failing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type

from shoploop.hooks import Customer
from shoploop.plugins.shopify import ShopifyConfig, ShopifyConnector, _mapping, _queries, _webhooks
from shoploop.plugins.shopify._client import GraphQLClient
from shoploop.plugins.shopify.emulator import ShopifyEmulator, load_schema
from shoploop.plugins.shopify.emulator._webhooks import rest_payload
from shoploop.privacy import redacted_customer_id
from shoploop.testing import make_dataset

FIXTURES = Path(__file__).parents[1] / "fixtures" / "platforms" / "shopify"
SECRET = "documented-secret"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def shape(value: Any) -> Any:
    """Keys and JSON types, recursively (int and float are both "number"; a list is the
    shape of its first item)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "null" if value is None else type(value).__name__


def same_shape(documented: Any, ours: Any, path: str = "") -> list[str]:
    """Where ``ours`` differs from ``documented`` (a documented null matches any value; an
    empty documented list matches any list)."""
    if documented == "null":
        return []
    if isinstance(documented, dict):
        if not isinstance(ours, dict):
            return [f"{path}: {ours!r} where the docs show an object"]
        problems = [f"{path}.{key}: missing" for key in documented if key not in ours]
        for key in documented.keys() & ours.keys():
            problems += same_shape(documented[key], ours[key], f"{path}.{key}")
        return problems
    if isinstance(documented, list):
        if not isinstance(ours, list):
            return [f"{path}: {ours!r} where the docs show a list"]
        return same_shape(documented[0], ours[0], f"{path}[0]") if documented and ours else []
    return [] if documented == ours or ours == "null" else [f"{path}: {ours} not {documented}"]


def test_every_fixture_names_its_source() -> None:
    sources = fixture("sources.json")
    files = {str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.json")} - {"sources.json"}
    assert files == set(sources)
    assert all(entry["source"].startswith("https://") for entry in sources.values())


# -- webhooks -------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "topic"), [
    ("customers_data_request", "customers/data_request"),
    ("customers_redact", "customers/redact"), ("shop_redact", "shop/redact")])
def test_documented_privacy_webhooks_parse(name: str, topic: str) -> None:
    body = (FIXTURES / "webhooks" / f"{name}.json").read_bytes()  # the raw bytes are signed
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": _webhooks.sign(body, SECRET),
               "X-Shopify-Shop-Domain": "shop.myshopify.com"}
    event = _webhooks.parse(headers, body, SECRET, "shop")
    assert event.type == _webhooks.EVENT_TYPES[topic] and event.topic == topic
    documented = json.loads(body)
    assert {k: event.payload[k] for k in documented} == documented
    if "customer" in documented:
        # One event per customer request, and the redact names the customer to erase.
        assert event.dedupe_key.startswith(f"{topic}:191167:")
        assert redacted_customer_id(event.payload) == "191167"
    with pytest.raises(Exception, match="does not match"):
        _webhooks.parse(headers, body + b" ", SECRET, "shop")


def test_emulator_customer_webhooks_carry_no_tags_since_2025_01(
        emulator: ShopifyEmulator) -> None:
    dataset = make_dataset(customers=1, products=1, orders=0)
    emulator.data.load(customers=dataset.customers, products=dataset.products)
    customer = next(iter(emulator.data.customers.values()))
    product = next(iter(emulator.data.products.values()))
    assert "tags" not in rest_payload(customer) and "tags" in rest_payload(product)


# -- GraphQL answers ------------------------------------------------------------------------

def _documented_customer() -> dict[str, Any]:
    node: dict[str, Any] = fixture("graphql/customers_query_response.json")[
        "customers"]["nodes"][0]
    return node


def test_the_documented_customer_node_maps_to_a_customer() -> None:
    customer = _mapping.customer(_documented_customer())
    assert isinstance(customer, Customer)
    assert (customer.id, customer.email, customer.phone) == (
        "56501169", "jennytest@b2b.example.com", "+13125551219")
    assert (customer.first_name, customer.last_name, customer.tags) == ("Jenny", "Test", [])
    assert customer.accepts_marketing is None  # NOT_SUBSCRIBED: no decision either way


def _selection(node: dict[str, Any], type_name: str) -> str:
    """The documented node's fields that the emulator's schema has, as a selection set."""
    owner = load_schema().get_type(type_name)
    assert isinstance(owner, GraphQLObjectType)
    fields = []
    for key, value in node.items():
        if key not in owner.fields:
            continue
        inner = get_named_type(owner.fields[key].type)
        if isinstance(inner, GraphQLObjectType):
            sample = value[0] if isinstance(value, list) and value else value
            if isinstance(sample, dict):
                fields.append(f"{key} {{ {_selection(sample, inner.name)} }}")
            else:  # documented as null or []: any scalar of it will do
                scalar = next(n for n, f in inner.fields.items()
                              if not isinstance(get_named_type(f.type), GraphQLObjectType))
                fields.append(f"{key} {{ {scalar} }}")
        else:
            fields.append(key)
    return " ".join(fields)


def test_the_emulator_answers_customers_in_the_documented_shape(
        emulator: ShopifyEmulator) -> None:
    documented = _documented_customer()
    # Every field the adapter reads that the docs show exists in the emulator's schema.
    selected = set(_queries.CUSTOMER_FIELDS.split())
    assert {"firstName", "lastName", "defaultEmailAddress", "defaultPhoneNumber", "tags",
            "createdAt", "updatedAt", "defaultAddress"} <= selected & documented.keys()
    emulator.data.load(customers=make_dataset(customers=3, products=0, orders=0).customers)
    with_phone = next(c for c in emulator.data.customers.values() if c.get("phone"))
    with_phone["tags"] = ["vip"]
    selection = _selection(documented, "Customer")
    answer = emulator.run(f"{{ customers(first: 3) {{ nodes {{ {selection} }} }} }}", {})
    assert "errors" not in answer, answer
    nodes = answer["data"]["customers"]["nodes"]
    node = next(n for n in nodes if n["id"] == with_phone["id"])
    known = {k: v for k, v in documented.items() if k in node}
    assert set(known) >= {"id", "defaultEmailAddress", "defaultPhoneNumber", "tags"}
    assert same_shape(shape(known), shape(node)) == []


def test_the_emulator_throttles_in_the_documented_shape(
        start_emulator: Callable[..., ShopifyEmulator]) -> None:
    documented = fixture("graphql/throttled_response.json")
    emulator = start_emulator(bucket=100, restore_rate=1)
    emulator.bucket.take(emulator.bucket.status()["currentlyAvailable"])
    answer = emulator.run("{ customers(first: 50) { nodes { id } } }", {})
    assert answer["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert same_shape(shape(documented), shape(answer)) == []
    assert answer["extensions"]["cost"]["actualQueryCost"] is None  # as documented


def test_the_client_waits_out_the_documented_throttled_answer() -> None:
    # A narrow unit test: Shopify's own THROTTLED body inside HTTP 200, then a success.
    documented = fixture("graphql/throttled_response.json")
    answers = [httpx.Response(200, json=documented),
               httpx.Response(200, json={"data": {"shop": {"name": "x"}}, "extensions": {
                   "cost": {"requestedQueryCost": 1, "actualQueryCost": 1, "throttleStatus": {
                       "maximumAvailable": 1000.0, "currentlyAvailable": 999,
                       "restoreRate": 50.0}}}})]
    slept: list[float] = []
    settings = ShopifyConfig.model_validate({"type": "shopify", "shop": "a.myshopify.com",
                                             "access_token_env": "SHOPLOOP_DOC_TOKEN"})
    client = GraphQLClient("shop", settings,
                           transport=httpx.MockTransport(lambda _request: answers.pop(0)),
                           sleep=slept.append)
    client._token = "token"
    try:
        assert client.execute("{ shop { name } }", operation="probe") == {"shop": {"name": "x"}}
    finally:
        client.close()
    # 752 requested, 666 available, 50/s restored: about (752 - 666) / 50 s, not a blind retry.
    assert client.counts["throttled"] == 1 and slept and 1.0 <= slept[0] <= 10.0


def test_the_connector_reads_customers_the_emulator_serves(
        emulator: ShopifyEmulator, connect: Callable[..., ShopifyConnector]) -> None:
    # The same mapping that accepts the documented node reads the emulator's.
    dataset = make_dataset(customers=4, products=0, orders=0)
    emulator.data.load(customers=dataset.customers)
    page = connect(emulator).read_customers(None)
    assert sorted(str(c.email).lower() for c in page.items) == sorted(
        str(c.email).lower() for c in dataset.customers)
