"""Creating customers through /customers/batch, against the emulator over real sockets: what is
sent, once per e-mail (duplicates, lost answers, retries), per-item refusals, the batch limit,
reading created customers back; and the emulator's WordPress rules for new users."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from shoploop.emulation import Request, Response
from shoploop.hooks import BatchLimitError, Cursor, CustomerDraft, WriteStatus
from shoploop.plugins.woocommerce import WooCommerceConfig, WooCommerceConnector
from shoploop.plugins.woocommerce.emulator import WooCommerceEmulator

Start = Callable[..., WooCommerceEmulator]
Connect = Callable[..., WooCommerceConnector]

CUSTOMERS = [{"id": f"C{i}", "email": f"c{i}@example.com", "first_name": "Seeded"}
             for i in range(3)]


def drafts(count: int, tag: str = "new") -> list[CustomerDraft]:
    return [CustomerDraft(email=f"{tag}-{i}@example.com", first_name="Zoë", last_name=f"Nr {i}",
                          company=f"Firma {i} GmbH", phone=f"+49 30 {i:04d}",
                          source=f"erp/K-{i}") for i in range(count)]


def by_email(emulator: WooCommerceEmulator) -> dict[str, list[int]]:
    """E-mail (lower case) → ids of the emulator's customers holding it."""
    found: dict[str, list[int]] = {}
    for number, record in emulator.data.customers.items():
        found.setdefault(str(record["email"]).lower(), []).append(number)
    return found


def record_requests(emulator: WooCommerceEmulator) -> list[Request]:
    """Every request the emulator's app answers from now on (faults drawn earlier excluded)."""
    seen: list[Request] = []
    app = emulator.app

    def recording(request: Request) -> Response:
        seen.append(request)
        return app(request)

    emulator.app = recording  # type: ignore[assignment]
    return seen


def raw(emulator: WooCommerceEmulator, method: str, path: str,
        body: Any = None) -> tuple[int, Any]:
    """An OAuth-signed request (plain HTTP), bypassing the adapter (to look at raw answers)."""
    url = emulator.signed_url(method, path)
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def read_all(connector: WooCommerceConnector, cursor: Cursor | None = None
             ) -> tuple[list[Any], Cursor]:
    items: list[Any] = []
    while True:
        page = connector.read_customers(cursor)
        items += page.items
        assert page.cursor is not None
        cursor = page.cursor
        if not page.has_more:
            return items, cursor


def test_one_batch_creates_the_customers_with_contact_fields_only(
        start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    seen = record_requests(emulator)
    connector = woo_connect(emulator)
    wanted = [*drafts(2), CustomerDraft(email="Only.Mail@Example.com")]
    results = connector.create_customers(wanted)
    assert [(r.status, r.customer_id, r.message) for r in results] == [
        (WriteStatus.WRITTEN, "4", ""), (WriteStatus.WRITTEN, "5", ""),
        (WriteStatus.WRITTEN, "6", "")]
    assert [(r.method, r.path) for r in seen] == [("POST", "/wp-json/wc/v3/customers/batch")]
    assert seen[0].json() == {"create": [
        {"email": "new-0@example.com", "first_name": "Zoë", "last_name": "Nr 0",
         "billing": {"first_name": "Zoë", "last_name": "Nr 0", "company": "Firma 0 GmbH",
                     "phone": "+49 30 0000", "email": "new-0@example.com"}},
        {"email": "new-1@example.com", "first_name": "Zoë", "last_name": "Nr 1",
         "billing": {"first_name": "Zoë", "last_name": "Nr 1", "company": "Firma 1 GmbH",
                     "phone": "+49 30 0001", "email": "new-1@example.com"}},
        {"email": "only.mail@example.com", "billing": {"email": "only.mail@example.com"}},
    ]}
    record = emulator.data.customers[4]
    assert (record["role"], record["username"], record["meta_data"]) == ("customer", "new-0", [])
    assert record["date_created_gmt"] and record["date_modified_gmt"]
    assert emulator.data.source_ids["customers"][4] == "4"
    customers, _ = read_all(connector)
    created = {c.id: c for c in customers}["4"]
    assert (created.email, created.first_name, created.company, created.phone) == (
        "new-0@example.com", "Zoë", "Firma 0 GmbH", "+49 30 0000")
    assert created.accepts_marketing is None and created.attributes == {}
    assert emulator.stats.get("customers_created") == 3


def test_existing_emails_answer_unchanged_with_the_existing_id(start_emulator: Start,
                                                               woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    emulator.data.customers[2]["email"] = "Anna.Berg@Example.COM"  # stored as typed
    emulator.data.customers[3]["role"] = "subscriber"  # not listed under the default role
    connector = woo_connect(emulator)
    results = connector.create_customers([
        CustomerDraft(email="c0@example.com"),
        CustomerDraft(email="anna.berg@example.com"),  # differs only in case
        CustomerDraft(email="c2@example.com"),
        CustomerDraft(email="fresh@example.com"),
        CustomerDraft(email="FRESH@example.com"),  # twice in one batch
    ])
    assert [(r.status, r.customer_id) for r in results] == [
        (WriteStatus.UNCHANGED, "1"), (WriteStatus.UNCHANGED, "2"),
        (WriteStatus.UNCHANGED, "3"), (WriteStatus.WRITTEN, "4"),
        (WriteStatus.UNCHANGED, "4")]
    assert len(emulator.data.customers) == 4
    assert emulator.stats.get("customers_created") == 1


def test_refused_drafts_fail_with_the_stores_message_and_the_others_are_created(
        start_emulator: Start, woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    results = connector.create_customers([
        CustomerDraft(email="good-1@example.com"),
        CustomerDraft(email="no-at-sign.example.com"),
        CustomerDraft(email="jane@example..com"),  # WordPress refuses '..' in the domain
        CustomerDraft(email="good-2@example.com"),
    ])
    assert [(r.status, r.customer_id) for r in results] == [
        (WriteStatus.WRITTEN, "4"), (WriteStatus.FAILED, ""), (WriteStatus.FAILED, ""),
        (WriteStatus.WRITTEN, "5")]
    assert results[1].message == results[2].message == \
        "customer_invalid_email: Invalid email address"
    assert set(by_email(emulator)) == {"c0@example.com", "c1@example.com", "c2@example.com",
                                       "good-1@example.com", "good-2@example.com"}


def test_email_taken_but_not_listed_fails_with_the_message(
        start_emulator: Start, woo_connect: Connect, monkeypatch: pytest.MonkeyPatch) -> None:
    """Multisite: WordPress refuses an e-mail of another site's user, which this site does
    not list; the draft fails instead of being bound to nobody."""
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    monkeypatch.setattr(connector, "find_customer_by_email", lambda email: None)
    [result] = connector.create_customers([CustomerDraft(email="c1@example.com")])
    assert (result.status, result.customer_id) == (WriteStatus.FAILED, "")
    assert result.message.startswith("registration-error-email-exists: An account is already "
                                     "registered with c1@example.com.")


@pytest.mark.parametrize("status", [500, 502])
def test_lost_answer_is_retried_without_a_second_customer(
        start_emulator: Start, woo_connect: Connect, status: int) -> None:
    """The batch is applied but its answer lost: the client resends it, WooCommerce refuses
    every e-mail as taken, and the connector answers the customers the first attempt made."""
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    wanted = drafts(3)
    emulator.lose_next_answers(1, status=status)
    results = connector.create_customers(wanted)
    assert emulator.stats.get("lost_answers") == 1
    assert emulator.stats.get("batch_requests") == 2  # the lost one and its retry
    assert emulator.stats.get("customers_created") == 3
    owners = by_email(emulator)
    assert all(len(owners[d.email]) == 1 for d in wanted)
    assert [(r.status, r.customer_id) for r in results] == [
        (WriteStatus.UNCHANGED, str(owners[d.email][0])) for d in wanted]
    again = connector.create_customers(wanted)  # a crash before binding: the next run
    assert [(r.status, r.customer_id) for r in again] == [
        (r.status, r.customer_id) for r in results]
    assert len(emulator.data.customers) == len(CUSTOMERS) + 3


def test_faults_and_lost_answers_end_with_each_email_once(start_emulator: Start,
                                                          woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS, fault_rate=0.2, fault_seed=3,
                              lost_answers=0.5)
    connector = woo_connect(emulator, customer_batch_size=10)
    wanted = drafts(150, "faulty")
    results = []
    for start in range(0, len(wanted), 10):
        results += connector.create_customers(wanted[start:start + 10])
    stats = emulator.stats.snapshot()
    assert stats.get("lost_answers", 0) > 0  # batches were applied, answered 502, and resent
    assert stats.get("faulted", 0) + stats.get("throttled", 0) > 0
    owners = by_email(emulator)
    assert all(len(owners[d.email]) == 1 for d in wanted)
    assert len(emulator.data.customers) == len(CUSTOMERS) + 150
    assert {r.status for r in results} <= {WriteStatus.WRITTEN, WriteStatus.UNCHANGED}
    assert [r.customer_id for r in results] == [str(owners[d.email][0]) for d in wanted]


def test_over_the_batch_size_raises_before_anything_is_sent(start_emulator: Start,
                                                            woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator, customer_batch_size=5)
    assert connector.customer_batch_size == 5
    with pytest.raises(BatchLimitError) as raised:
        connector.create_customers(drafts(6))
    assert (raised.value.connection, raised.value.operation) == ("woo-test",
                                                                 "create_customers")
    assert emulator.stats.get("requests") == 0 and len(emulator.data.customers) == 3
    assert [r.status for r in connector.create_customers(drafts(5))] == [WriteStatus.WRITTEN] * 5
    with pytest.raises(ValidationError):
        WooCommerceConfig.model_validate({"type": "woocommerce", "url": emulator.url,
                                          "customer_batch_size": 101})
    assert WooCommerceConfig.model_validate(
        {"type": "woocommerce", "url": emulator.url}).customer_batch_size == 100


def test_the_stores_batch_limit_refuses_the_whole_batch(start_emulator: Start,
                                                        woo_connect: Connect) -> None:
    """WooCommerce answers 413 to more than 100 items and applies none of them; the
    connector says BatchLimitError (a store can lower the limit with a filter)."""
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator)
    connector.customer_batch_size = 101  # past the config's bound, to reach the store's
    with pytest.raises(BatchLimitError, match="woocommerce_rest_request_entity_too_large"):
        connector.create_customers(drafts(101))
    assert emulator.stats.get("requests") == 1  # a 413 is final, not retried
    assert len(emulator.data.customers) == 3


def test_created_customers_appear_in_an_incremental_read(start_emulator: Start,
                                                         woo_connect: Connect) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    connector = woo_connect(emulator, page_size=2)
    before, checkpoint = read_all(connector)
    assert len(before) == 3
    created = connector.create_customers(drafts(3, "later"))
    delta, settled = read_all(connector, checkpoint)
    assert sorted((c.id, c.email) for c in delta) == [
        (r.customer_id, f"later-{i}@example.com") for i, r in enumerate(created)]
    assert read_all(connector, settled)[0] == []


def test_emulator_applies_wordpress_rules_to_new_users(start_emulator: Start) -> None:
    emulator = start_emulator(customers=CUSTOMERS)
    status, body = raw(emulator, "POST", "customers", {"email": "info@acme.example"})
    assert status == 201 and body["username"] == "acme.example"  # info@ → the domain
    status, body = raw(emulator, "POST", "customers", {"email": "c0@other.example"})
    assert status == 201 and body["username"].startswith("c0-")  # c0 is taken
    assert body["username"][3:].isdigit() and len(body["username"]) == 7
    status, body = raw(emulator, "POST", "customers", {"email": "INFO@acme.example"})
    assert (status, body["code"]) == (400, "registration-error-email-exists")
    assert body["message"] == ("An account is already registered with INFO@acme.example. "
                               "Please log in or use a different email address.")
    status, body = raw(emulator, "POST", "customers", {"first_name": "No mail"})
    assert (status, body["code"]) == (400, "rest_missing_callback_param")
    status, body = raw(emulator, "POST", "customers", {"email": "not-an-email"})
    assert (status, body["code"]) == (400, "rest_invalid_param")
    status, body = raw(emulator, "POST", "customers/batch", {"create": [
        {"email": ""}, {"email": "x@y.z"}, {"id": 7, "email": "seven@example.com"},
        {"email": "ok@example.com"}]})
    assert status == 200
    assert [(i["id"], i.get("error", {}).get("code")) for i in body["create"]] == [
        (0, "registration-error-invalid-email"), (0, "customer_invalid_email"),
        (0, "woocommerce_rest_customer_exists"), (body["create"][3]["id"], None)]
    assert body["create"][0]["error"]["data"] == {"status": 400}
    status, body = raw(emulator, "GET", "customers?email=OK@example.com&role=all")
    assert status == 200 and [c["email"] for c in body] == ["ok@example.com"]
