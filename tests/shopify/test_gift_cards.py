"""Gift-card rewards against the emulator over real sockets: issued once per key, found again
by the derived code, deactivated on revoke unless partly spent."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shoploop.hooks import RemoteValidationError, RewardSpec
from shoploop.plugins.shopify._gift_cards import code_for
from shoploop.plugins.shopify.emulator import numeric_id
from shoploop.testing import make_dataset


@pytest.fixture
def shop(emulator):
    dataset = make_dataset(customers=5, products=2, orders=0)
    emulator.data.load(customers=dataset.customers, products=dataset.products)
    return emulator, [str(numeric_id("Customer", c.id)) for c in dataset.customers]


def _spec(key: str, customer: str | None = None, **extra) -> RewardSpec:
    return RewardSpec(kind="gift_card", idempotency_key=key, recipient_customer_id=customer,
                      amount=extra.pop("amount", "25.00"), **extra)


def test_a_gift_card_is_issued_once_per_key_and_found_again(shop, connect, record_sent):
    emulator, ids = shop
    connector = connect(emulator)
    sent = record_sent(connector)
    spec = _spec("referral-0007", ids[1], currency="EUR",
                 expires_at=datetime(2027, 6, 30, 12, tzinfo=UTC))
    first = connector.issue_reward(spec)
    assert first.kind == "gift_card" and first.reference == code_for("referral-0007")
    assert connector.issue_reward(spec) == first
    assert emulator.stats.get("calls.giftCardCreate") == 1
    card = next(iter(emulator.data.gift_cards.values()))
    assert card["_customer"] == f"gid://shopify/Customer/{ids[1]}"
    assert card["initialValue"] == {"amount": "25.00", "currencyCode": "EUR"}
    assert card["expiresOn"] == "2027-06-30"
    created = [v["input"] for q, v in sent if q == "mutation GiftCardCreate($input:"]
    # 2026-10 (the default version): initialAmount with its currency, not initialValue.
    assert created and "initialValue" not in created[0]
    assert created[0]["initialAmount"] == {"amount": "25.00", "currencyCode": "EUR"}
    assert connector.find_reward("referral-0007") == first
    assert connector.find_reward("referral-unknown") is None


def test_an_older_api_version_sends_initial_value(shop, connect, record_sent):
    emulator, _ = shop
    connector = connect(emulator, api_version="2026-04")
    sent = record_sent(connector)
    connector.issue_reward(_spec("referral-old"))
    created = [v["input"] for q, v in sent if q == "mutation GiftCardCreate($input:"]
    assert created[0]["initialValue"] == "25.00" and "initialAmount" not in created[0]


def test_a_taken_code_is_looked_up_not_duplicated(shop, connect):
    """Two workers race: the first lookup saw nothing, the create answers TAKEN."""
    emulator, _ = shop
    connect(emulator).issue_reward(_spec("race-0002"))
    connector = connect(emulator)
    execute, lookups = connector.client.execute, []

    def first_lookup_misses(query, variables=None, *, operation, retries=None):
        if query.startswith("query GiftCardByCode"):
            lookups.append(operation)
            if len(lookups) == 1:
                return {"giftCards": {"nodes": []}}
        return execute(query, variables, operation=operation, retries=retries)

    connector.client.execute = first_lookup_misses  # type: ignore[method-assign]
    assert connector.issue_reward(_spec("race-0002")).reference == code_for("race-0002")
    assert len(emulator.data.gift_cards) == 1 and len(lookups) == 2


def test_an_invalid_code_is_refused_before_anything_is_sent(shop, connect):
    emulator, _ = shop
    connector = connect(emulator)
    with pytest.raises(RemoteValidationError, match="8-20 letters and digits"):
        connector.issue_reward(_spec("bad-code", code="THANK-YOU"))
    assert emulator.data.gift_cards == {}


def test_revoke_deactivates_an_unspent_card_once(shop, connect):
    emulator, ids = shop
    connector = connect(emulator)
    connector.issue_reward(_spec("referral-rev", ids[0]))
    first = connector.revoke_reward("referral-rev")
    assert first.outcome == "revoked" and first.reason == "gift card deactivated"
    card = next(iter(emulator.data.gift_cards.values()))
    assert card["enabled"] is False and card["deactivatedAt"]
    assert connector.revoke_reward("referral-rev").outcome == "revoked"
    assert emulator.stats.get("calls.giftCardDeactivate") == 1


def test_a_partly_spent_card_is_kept_as_redeemed(shop, connect):
    emulator, _ = shop
    connector = connect(emulator)
    connector.issue_reward(_spec("referral-spent"))
    card = next(iter(emulator.data.gift_cards.values()))
    card["balance"] = {"amount": "7.50", "currencyCode": "EUR"}  # spent at the checkout
    answer = connector.revoke_reward("referral-spent")
    assert answer.outcome == "redeemed" and "7.50 of 25.00 EUR left" in answer.reason
    assert card["enabled"] is True and emulator.stats.get("calls.giftCardDeactivate") == 0


def test_revoking_an_unknown_key_is_gone(shop, connect):
    emulator, _ = shop
    answer = connect(emulator).revoke_reward("referral-never")
    assert answer.outcome == "gone"
