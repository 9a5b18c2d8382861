"""Every GraphQL document the adapter can send validates against the emulator's SDL (the current
Admin schema subset, with Shopify's @deprecated markers) and uses no deprecated field, argument
or enum value — both the registry of documents and the documents actually sent in a run that
uses every capability."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest
from graphql import DocumentNode, GraphQLError, GraphQLSchema, parse, validate
from graphql.validation import NoDeprecatedCustomRule, specified_rules

from shoploop.hooks import AttributeChange, CustomerDraft, Recommendation, RewardSpec
from shoploop.plugins.shopify import ShopifyConnector, _bulk, _queries
from shoploop.plugins.shopify._documents import documents
from shoploop.plugins.shopify.emulator import ShopifyEmulator, load_schema, numeric_id
from shoploop.testing import make_dataset

SCHEMA = load_schema()
BUILDERS = {"tags_mutation", "customers_create", "addresses_create", "customers_by_email",
            "current_values", "bulk_query", "count_query"}
"""The functions that build documents at run time; ``documents()`` must call each of them."""


def problems(document: str, schema: GraphQLSchema = SCHEMA) -> list[str]:
    """What a strict server would refuse or warn about: spec validation plus any use of a
    deprecated field, argument, input field or enum value."""
    try:
        tree: DocumentNode = parse(document)
    except GraphQLError as exc:
        return [f"does not parse: {exc.message}"]
    return [e.message for e in validate(schema, tree, [*specified_rules,
                                                       NoDeprecatedCustomRule])]


@pytest.mark.parametrize("name", sorted(documents()))
def test_each_document_validates_without_deprecated_fields(name: str) -> None:
    assert problems(documents()[name]) == []


def test_the_check_refuses_the_deprecated_fields_the_adapter_used_to_select() -> None:
    # The documents as they were before the move (CUSTOMER_FIELDS, the lookup, the poll).
    old_customers = ("query { customers(first: 1) { nodes { id email phone "
                     "emailMarketingConsent { marketingState } } } }")
    found = problems(old_customers)
    assert [m.split(" is deprecated")[0] for m in found] == [
        "The field Customer.email", "The field Customer.phone",
        "The field Customer.emailMarketingConsent"]
    assert "defaultEmailAddress.emailAddress" in found[0]
    [poll] = problems("query { currentBulkOperation { id status url } }")
    assert "Query.currentBulkOperation is deprecated" in poll
    assert problems("query { customer(id: \"gid://shopify/Customer/1\") { nope } }") != []


def _is_document(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse(value)
    except GraphQLError:
        return False
    return True


def test_every_document_constant_and_builder_is_in_the_registry() -> None:
    listed = set(documents().values())
    for module in (_queries, _bulk):
        for name, value in vars(module).items():
            if _is_document(value):
                assert value in listed, f"{module.__name__}.{name} is missing in documents()"
    builders = {name for module in (_queries, _bulk)
                for name, value in vars(module).items()
                if inspect.isfunction(value) and value.__module__ == module.__name__
                and inspect.signature(value).return_annotation in ("str", str)}
    assert builders == BUILDERS, "a new document builder: add its shapes to documents()"


def _recording(connector: ShopifyConnector) -> list[tuple[str, dict[str, Any]]]:
    """Every (document, variables) the connector sends; the request still happens."""
    sent: list[tuple[str, dict[str, Any]]] = []
    execute = connector.client.execute

    def record(query: str, variables: Any = None, *, operation: str,
               retries: int | None = None) -> dict[str, Any]:
        sent.append((query, dict(variables or {})))
        return execute(query, variables, operation=operation, retries=retries)

    connector.client.execute = record  # type: ignore[method-assign]
    return sent


def test_the_documents_sent_using_every_capability_validate(
        start_emulator: Callable[..., ShopifyEmulator],
        connect: Callable[..., ShopifyConnector]) -> None:
    emulator = start_emulator(bucket=2000, restore_rate=1000, bulk_polls=1)
    dataset = make_dataset(customers=12, products=4, orders=6)
    emulator.data.load(customers=dataset.customers, products=dataset.products,
                       orders=dataset.orders)
    ids = [str(numeric_id("Customer", c.id)) for c in dataset.customers]
    products = [str(numeric_id("Product", p.id)) for p in dataset.products]
    sent: list[tuple[str, dict[str, Any]]] = []
    for bulk in (0, 1):  # paged and bulk reads
        connector = connect(emulator, bulk_threshold=bulk, tag_attributes=["segment"])
        sent_here = _recording(connector)
        assert connector.check().authorised
        for read in (connector.read_customers, connector.read_products, connector.read_orders):
            page = read(None)
            while page.has_more:
                page = read(page.next_cursor)
        sent += sent_here
    connector = connect(emulator, tag_attributes=["segment"])
    recorded = _recording(connector)
    connector.write_customer_attributes([
        AttributeChange(customer_id=ids[0], key="segment", new="vip"),
        AttributeChange(customer_id=ids[1], key="lifecycle", new="retention"),
        AttributeChange(customer_id=ids[1], key="score", new=None)])
    taken = dataset.customers[0].email
    assert taken
    connector.create_customers([
        CustomerDraft(email="new-doc@example.com", first_name="Ada", company="Ada GmbH",
                      phone="+49 30 1234567", source="erp/1"),
        CustomerDraft(email=taken, source="erp/2")])
    connector.issue_reward(RewardSpec(kind="discount_code", idempotency_key="documents-0001",
                                      recipient_customer_id=ids[0], percentage=10))
    connector.find_reward("documents-0001")
    connector.publish_recommendations(products[0], [Recommendation(
        product_id=products[1], score=0.9, kind="cross_sell", strategy="s", reason="r")])
    sent += recorded
    names = {query.split("(")[0].split("{")[0].split()[-1] for query, _ in sent}
    assert {"Customers", "Bulk", "Poll", "Tags", "MetafieldsSet", "CustomersCreate",
            "AddressesCreate", "CustomersByEmail", "DiscountCreate"} <= names
    for query, variables in sent:
        assert problems(query) == [], query
        if "bulkOperationRunQuery" in query:  # the export query runs server-side
            assert problems(variables["query"]) == [], variables["query"]
