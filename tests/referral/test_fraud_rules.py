"""Each built-in fraud rule rejects with its reason, and lets a good referral through."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import shoploop
from shoploop.combine import decide_referral
from shoploop.hooks import Address, HookContext, Referral
from shoploop.referral import builtin, normalised_email

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CONFIG = {"referral": {"caps": {"per_advocate": 3, "period_days": 30, "velocity_count": 2,
                                "velocity_hours": 24},
                       "reward": {"kind": "credit_note", "amount": "10"}}}
GOOD = Referral(
    id="R-1", advocate_customer_id="A1", advocate_email="anna.huber@gmail.com", code="FRIEND-1",
    referred_order_id="O9", referred_customer_id="B7", referred_email="ben@example.net",
    order_total=Decimal("120"), connection="shop", created_at=NOW,
    advocate_addresses=[Address(line1="Hauptstraße 1", postal_code="10115", country="DE")],
    referred_addresses=[Address(line1="Seeweg 9", postal_code="20095", country="DE")],
    advocate_vat_id="DE123456789", referred_vat_id="DE987654321",
    advocate_bindings={"shop": "A1", "erp": "K-1"}, referred_bindings={"shop": "B7",
                                                                       "erp": "K-2"},
    order_status="paid", advocate_referral_times=[NOW - timedelta(days=10)])


@pytest.fixture(scope="module")
def host() -> Any:
    made = shoploop.new_host(strict=True)
    made.register(builtin, name="referral")
    return made


def verdict(host: Any, **changes: Any) -> Any:
    return decide_referral(host, HookContext(config=CONFIG, now=NOW),
                           GOOD.model_copy(update=changes))


def test_a_good_referral_passes_every_rule_and_gets_the_configured_reward(host: Any) -> None:
    result = verdict(host)
    assert result.accepted and result.findings == []
    assert result.reward is not None and result.policy == "referral"
    assert (result.reward.kind, result.reward.amount) == ("credit_note", Decimal("10"))
    assert result.reward.idempotency_key == "referral-R-1"


@pytest.mark.parametrize(("rule", "changes", "reason"), [
    ("self_referral", {"referred_email": "A.nnahuber+friends@googlemail.com"},
     "reaches the advocate's mailbox (annahuber@gmail.com)"),
    ("same_customer", {"referred_customer_id": "A1"}, "the same customer"),
    ("same_customer", {"referred_bindings": {"shop": "B7", "erp": "K-1"}}, "in ['erp']"),
    ("same_address", {"referred_addresses": [Address(line1="Hauptstrasse 1",
                                                     postal_code="10115", country="DE")]},
     "the advocate's address"),
    ("same_vat_id", {"referred_vat_id": "de 123 456 789"}, "VAT id"),
    ("existing_customer", {"referred_prior_orders": 2}, "2 earlier orders"),
    ("cap_per_advocate", {"advocate_referral_times": [NOW - timedelta(days=d)
                                                      for d in (2, 5, 9)]},
     "3 referrals in the last 30 days (cap 3)"),
    ("velocity", {"advocate_referral_times": [NOW - timedelta(hours=h) for h in (1, 3)]},
     "within 24 hours"),
])
def test_each_rule_rejects_with_its_reason(host: Any, rule: str, changes: dict[str, Any],
                                           reason: str) -> None:
    result = verdict(host, **changes)
    assert not result.accepted and result.reward is None
    assert rule in [f.rule for f in result.findings if f.rejects]
    assert any(reason in r for r in result.reasons), result.reasons


@given(local=st.from_regex(r"[a-z]{1,8}(\.[a-z]{1,5})?", fullmatch=True),
       tag=st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True),
       gmail=st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]))
def test_gmail_dots_tags_and_case_reach_one_mailbox(local: str, tag: str, gmail: str) -> None:
    plain = normalised_email(f"{local.replace('.', '')}@gmail.com")
    dotted = normalised_email(f"{local.upper()}{'+' + tag if tag else ''}@{gmail}")
    assert plain == dotted
    # Elsewhere dots are part of the mailbox: not the same person.
    if "." in local:
        assert normalised_email(f"{local}@example.org") != normalised_email(
            f"{local.replace('.', '')}@example.org")
