"""Creating customers (``customerCreate``) against the emulator over real sockets: once per
e-mail, a taken e-mail looked up, refusals per draft, lost answers and THROTTLED retried
without duplicates, and the new customers visible to paged, incremental and bulk reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from shoploop.hooks import BatchLimitError, CustomerDraft, UnreachableError, WriteStatus
from shoploop.plugins.shopify import ShopifyConnector
from shoploop.plugins.shopify._queries import customers_create
from shoploop.plugins.shopify.emulator import ShopifyEmulator, numeric_id
from shoploop.plugins.shopify.emulator._cost import LeakyBucket
from shoploop.testing import make_dataset

Connect = Callable[..., ShopifyConnector]


def _drafts(count: int, tag: str) -> list[CustomerDraft]:
    return [CustomerDraft(email=f"{tag}-{i}@example.com", first_name="Erika",
                          last_name=f"{tag.title()} {i}", company=f"{tag.title()} GmbH {i}",
                          source=f"erp/K-{tag}-{i}") for i in range(count)]


def _by_email(emulator: ShopifyEmulator) -> dict[str, dict[str, Any]]:
    return {str(c["email"]): c for c in emulator.data.customers.values()}


def _record_documents(connector: ShopifyConnector) -> list[str]:
    """The GraphQL documents the connector sends, in order (the real call still happens)."""
    sent: list[str] = []
    execute = connector.client.execute

    def recording(query: str, variables: Any = None, *, operation: str,
                  retries: int | None = None) -> dict[str, Any]:
        sent.append(query)
        return execute(query, variables, operation=operation, retries=retries)

    connector.client.execute = recording  # type: ignore[method-assign]
    return sent


def test_new_customers_are_created_in_one_request_with_their_contact_fields(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    connector = connect(emulator)
    drafts = _drafts(3, "new")
    drafts[0] = drafts[0].model_copy(update={"phone": "+49 711 123456"})
    results = connector.create_customers(drafts)
    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 3
    # One request creates them, one more gives them their company (CustomerInput has no
    # addresses in the current schema).
    assert emulator.stats.get("writes") == 2 and emulator.stats.get("calls.customerCreate") == 3
    assert emulator.stats.get("calls.customerAddressCreate") == 3
    customers = _by_email(emulator)
    for draft, result in zip(drafts, results, strict=True):
        node = customers[draft.email]
        # The id has the connector's form: numeric, as read_customers returns it.
        assert result.customer_id == node["legacyResourceId"] and result.customer_id.isdigit()
        assert (node["firstName"], node["lastName"]) == (draft.first_name, draft.last_name)
        assert node["defaultAddress"]["company"] == draft.company
        assert node["emailMarketingConsent"]["marketingState"] == "NOT_SUBSCRIBED"
    assert customers[drafts[0].email]["phone"] == "+49711123456"
    assert len({r.customer_id for r in results}) == 3


def test_a_taken_email_is_unchanged_with_the_existing_id_whatever_its_case(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    dataset = make_dataset(customers=3, products=0, orders=0)
    emulator.data.load(customers=dataset.customers)
    existing = f"gid://shopify/Customer/{numeric_id('Customer', dataset.customers[0].id)}"
    emulator.data.customers[existing]["email"] = "Anna.Muster@Example.COM"  # stored as typed
    connector = connect(emulator)
    sent = _record_documents(connector)
    drafts = [CustomerDraft(email="anna.muster@example.com", first_name="Anna"),
              *_drafts(1, "fresh")]
    results = connector.create_customers(drafts)
    assert [r.status for r in results] == [WriteStatus.UNCHANGED, WriteStatus.WRITTEN]
    assert results[0].customer_id == existing.rsplit("/", 1)[-1]
    assert len(emulator.data.customers) == 4  # only the fresh one was added
    # The existing customer was not touched.
    assert emulator.data.customers[existing]["firstName"] == dataset.customers[0].first_name
    lookups = [q for q in sent if q.startswith("query CustomersByEmail")]
    assert len(lookups) == 1 and "customerByIdentifier" in lookups[0]


def test_older_api_versions_look_the_customer_up_by_search(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    connector = connect(emulator, api_version="2024-10")
    first = connector.create_customers(_drafts(2, "old"))
    sent = _record_documents(connector)
    again = connector.create_customers(_drafts(2, "old"))
    assert [r.status for r in again] == [WriteStatus.UNCHANGED] * 2
    assert [r.customer_id for r in again] == [r.customer_id for r in first]
    lookups = [q for q in sent if q.startswith("query CustomersByEmail")]
    assert len(lookups) == 1 and "customers(first: 2" in lookups[0]
    assert "customerByIdentifier" not in lookups[0]


def test_refused_drafts_fail_with_shopifys_message_and_the_others_are_created(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    connector = connect(emulator)
    ok = _drafts(2, "ok")
    drafts = [ok[0], CustomerDraft(email="no-at-sign.example.com", last_name="Bad",
                                   phone="0711 12"), ok[1]]
    results = connector.create_customers(drafts)
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.FAILED,
                                           WriteStatus.WRITTEN]
    assert results[1].customer_id == "" and "Email is invalid" in results[1].message
    assert sorted(_by_email(emulator)) == sorted(d.email for d in ok)


def test_a_draft_refused_only_for_its_phone_is_created_without_it(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    """ERPs give several customers one switchboard number; Shopify keeps phones unique."""
    connector = connect(emulator)
    shared = "+49 30 1234567"
    drafts = [CustomerDraft(email=f"branch{i}@example.com", phone=shared) for i in range(3)]
    drafts.append(CustomerDraft(email="badphone@example.com", phone="0711 12"))
    results = connector.create_customers(drafts)
    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 4
    assert results[0].message == ""
    assert [r.message for r in results[1:]] == [
        "created without its phone: Phone has already been taken"] * 2 + [
        "created without its phone: Phone is invalid"]
    held = _by_email(emulator)
    assert [held[d.email]["phone"] for d in drafts] == ["+49301234567", None, None, None]
    again = connector.create_customers(drafts)  # still once per e-mail
    assert [(r.status, r.customer_id) for r in again] == [
        (WriteStatus.UNCHANGED, r.customer_id) for r in results]


def test_the_same_email_twice_in_one_batch_makes_one_customer(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    connector = connect(emulator)
    draft = _drafts(1, "twice")[0]
    results = connector.create_customers([draft, draft])
    assert [r.status for r in results] == [WriteStatus.WRITTEN, WriteStatus.UNCHANGED]
    assert results[0].customer_id == results[1].customer_id
    assert len(emulator.data.customers) == 1


def test_a_create_whose_answer_was_lost_is_retried_without_a_duplicate(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    connector = connect(emulator)
    sleeps: list[float] = []
    connector.client._sleep = sleeps.append
    assert connector.check().authorised  # the throttle's probe is done: the next request creates
    control = httpx.post(f"{emulator.url}/_emulator/control", params={"lose": "1"})
    assert control.status_code == 200 and control.json()["lose"] == 1
    drafts = _drafts(3, "lost")
    results = connector.create_customers(drafts)
    # Executed twice (the first answer was a 502 after the customers were made), created once.
    assert emulator.stats.get("lost_answers") == 1 and connector.client.counts["retries"] == 1
    assert emulator.stats.get("calls.customerCreate") == 6
    customers = _by_email(emulator)
    assert len(emulator.data.customers) == 3 and sorted(customers) == sorted(
        d.email for d in drafts)
    assert [r.status for r in results] == [WriteStatus.UNCHANGED] * 3
    assert [r.customer_id for r in results] == [customers[d.email]["legacyResourceId"]
                                                for d in drafts]
    again = connector.create_customers(drafts)
    assert [r.customer_id for r in again] == [r.customer_id for r in results]
    assert len(emulator.data.customers) == 3


def test_more_drafts_than_customer_batch_size_raise_before_anything_is_sent(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    connector = connect(emulator, customer_batch_size=3)
    assert connector.customer_batch_size == 3
    with pytest.raises(BatchLimitError) as caught:
        connector.create_customers(_drafts(4, "over"))
    assert (caught.value.connection, caught.value.operation) == ("shop-test",
                                                                 "create_customers")
    assert emulator.stats.get("requests") == 0 and emulator.data.customers == {}
    assert [r.status for r in connector.create_customers(_drafts(3, "over"))] == [
        WriteStatus.WRITTEN] * 3


def test_a_batch_is_split_into_requests_whose_cost_fits_the_budget(
        start_emulator: Callable[..., ShopifyEmulator], connect: Connect) -> None:
    # A 100-point bucket: a request may ask for 40 points, i.e. 4 customerCreate fields.
    emulator = start_emulator(bucket=100, restore_rate=10000)
    answer = emulator.run(customers_create(3), {f"c{i}": {"email": f"cost-{i}@example.com"}
                                                for i in range(3)})
    assert answer["extensions"]["cost"]["requestedQueryCost"] == 30
    emulator.data.clear()
    connector = connect(emulator)
    results = connector.create_customers(_drafts(10, "split"))
    assert {r.status for r in results} == {WriteStatus.WRITTEN}
    assert emulator.stats.get("calls.customerCreate") == 10 + 3
    # ceil(10 / 4) create requests, and as many giving the customers their company
    assert emulator.stats.get("writes") == 1 + 3 + 3
    assert emulator.stats.get("calls.customerAddressCreate") == 10
    assert emulator.stats.get("graphql_throttled") == 0


def test_a_throttled_batch_is_retried_and_creates_each_customer_once(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    clock = [0.0]
    emulator.bucket = LeakyBucket(200, 100, clock=lambda: clock[0])  # time passes on sleep

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    connector = connect(emulator)
    connector.client._sleep = sleep
    connector.client.throttle._sleep = sleep
    connector.create_customers(_drafts(1, "warm"))  # the throttle knows the bucket now
    assert emulator.bucket.take(emulator.bucket.status()["currentlyAvailable"])  # another app
    drafts = _drafts(5, "throttled")
    results = connector.create_customers(drafts)
    assert [r.status for r in results] == [WriteStatus.WRITTEN] * 5
    assert emulator.stats.get("graphql_throttled") >= 1
    assert connector.client.counts["throttled"] >= 1
    assert emulator.stats.get("calls.customerCreate") == 1 + 5  # THROTTLED executes nothing
    customers = _by_email(emulator)
    assert len(emulator.data.customers) == 6 and all(d.email in customers for d in drafts)


def test_created_customers_appear_in_an_incremental_read_from_a_checkpoint(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    emulator.data.load(customers=make_dataset(customers=8, products=0, orders=0).customers)
    connector = connect(emulator, page_size=5)
    checkpoint = _read_all(connector, None)[1]
    drafts = _drafts(2, "later")
    created = connector.create_customers(drafts)
    changed, checkpoint = _read_all(connector, checkpoint)
    assert sorted(c.id for c in changed) == sorted(r.customer_id for r in created)
    read = {c.email: c for c in changed}
    for draft in drafts:
        customer = read[draft.email]
        assert (customer.first_name, customer.last_name, customer.company) == (
            draft.first_name, draft.last_name, draft.company)
        assert customer.accepts_marketing is None  # consent is never carried
    assert _read_all(connector, checkpoint)[0] == []


def test_created_customers_are_in_a_bulk_export(
        start_emulator: Callable[..., ShopifyEmulator], connect: Connect) -> None:
    emulator = start_emulator(bucket=2000, restore_rate=1000, bulk_polls=0)
    emulator.data.load(customers=make_dataset(customers=4, products=0, orders=0).customers)
    connector = connect(emulator, page_size=5, bulk_threshold=2)
    connector.client._sleep = lambda seconds: None
    created = connector.create_customers(_drafts(2, "bulk"))
    customers, _ = _read_all(connector, None)
    assert emulator.stats.get("calls.bulkOperationRunQuery") == 1
    assert len(customers) == 6
    assert {r.customer_id for r in created} <= {c.id for c in customers}


def test_unreachable_shop_names_the_create_operation(connect: Connect) -> None:
    connector = connect(None, max_retries=0)
    with pytest.raises(UnreachableError) as caught:
        connector.create_customers(_drafts(1, "unreachable"))
    assert (caught.value.connection, caught.value.operation) == ("shop-test",
                                                                 "create_customers")


def test_the_emulator_announces_a_created_customer_as_customers_create(
        emulator: ShopifyEmulator, connect: Connect) -> None:
    delivered: list[tuple[str, dict[str, Any]]] = []
    emulator.webhooks.url = "http://127.0.0.1:9/unused"
    emulator.webhooks.deliver = lambda topic, payload: delivered.append(  # type: ignore
        (topic, payload)) or (b"", {})
    result = connect(emulator).create_customers(_drafts(1, "hook"))[0]
    # Created, then updated by its company's address (customerAddressCreate).
    assert [(topic, payload["id"]) for topic, payload in delivered] == [
        ("customers/create", int(result.customer_id)),
        ("customers/update", int(result.customer_id))]


def _read_all(connector: ShopifyConnector, cursor: Any) -> tuple[list[Any], Any]:
    items: list[Any] = []
    while True:
        page = connector.read_customers(cursor)
        items.extend(page.items)
        cursor = page.cursor
        if not page.has_more:
            return items, cursor


def test_a_refused_company_address_keeps_the_created_customer(
        emulator: ShopifyEmulator, connect: Connect, monkeypatch: pytest.MonkeyPatch) -> None:
    # The customer exists once customerCreate answered: a refused address must not turn it
    # into a failed create (the next run would then look it up, not create it; the company
    # would be lost silently) — it is written, and the message says what is missing.
    monkeypatch.setattr(emulator.data, "add_address", lambda *_a: (None, [
        {"field": ["address", "company"], "message": "Company is too long"}]))
    [result] = connect(emulator).create_customers(_drafts(1, "refused"))
    assert result.status is WriteStatus.WRITTEN and result.customer_id
    assert result.message == "created without its company: Company is too long"
    assert _by_email(emulator)["refused-0@example.com"]["defaultAddress"] is None
