"""Lifecycle stage, RFM scores and revenue: the rules at their boundaries, and properties."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shoploop.attributes import (
    LIFECYCLE_STAGES,
    RFM_SEGMENTS,
    AttributeSettings,
    frequency_score,
    lifecycle_stage,
    monetary_score,
    recency_score,
    revenue,
    rfm_segment,
)
from shoploop.attributes.builtin import compute
from shoploop.hooks import Order

DEFAULTS = AttributeSettings()


@pytest.mark.parametrize(("orders", "days", "referrals", "stage"), [
    (0, None, 0, "lead"),
    (0, None, 3, "lead"),
    (1, 0, 0, "first_time_buyer"),
    (1, 179, 0, "first_time_buyer"),
    (1, 180, 0, "at_risk"),
    (9, 364, 0, "at_risk"),
    (9, 365, 0, "lapsed"),
    (2, 10, 0, "repeat"),
    (4, 10, 0, "repeat"),
    (5, 10, 0, "loyal"),
    (1, 10, 1, "advocate"),
    (7, 200, 2, "at_risk"),
])
def test_lifecycle_boundaries(orders: int, days: int | None, referrals: int, stage: str) -> None:
    assert lifecycle_stage(orders, days, referrals, DEFAULTS) == stage


def test_thresholds_are_configurable() -> None:
    custom = AttributeSettings(at_risk_after_days=30, lapsed_after_days=60, loyal_min_orders=3)
    assert lifecycle_stage(3, 10, 0, custom) == "loyal"
    assert lifecycle_stage(3, 30, 0, custom) == "at_risk"
    assert lifecycle_stage(3, 60, 0, custom) == "lapsed"


@pytest.mark.parametrize("bad", [
    {"at_risk_after_days": 400},
    {"recency_days": [30, 30, 90, 100]},
    {"monetary": [1, 2, 3]},
    {"unknown_key": 1},
])
def test_invalid_settings_name_the_problem(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError) as info:
        AttributeSettings.model_validate(bad)
    assert next(iter(bad)) in str(info.value) or "lapsed_after_days" in str(info.value)


@pytest.mark.parametrize(("days", "score"), [
    (0, 5), (30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (181, 2), (365, 2), (366, 1)])
def test_recency_score_boundaries(days: int, score: int) -> None:
    assert recency_score(days, DEFAULTS) == score


@pytest.mark.parametrize(("count", "score"), [
    (0, 1), (1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (9, 4), (10, 5), (50, 5)])
def test_frequency_score_boundaries(count: int, score: int) -> None:
    assert frequency_score(count, DEFAULTS) == score


@pytest.mark.parametrize(("amount", "score"), [
    ("0", 1), ("99.99", 1), ("100", 2), ("249.99", 2), ("250", 3), ("500", 4), ("1000", 5)])
def test_monetary_score_boundaries(amount: str, score: int) -> None:
    assert monetary_score(Decimal(amount), DEFAULTS) == score


@pytest.mark.parametrize(("r", "f", "segment"), [
    (5, 5, "champions"), (4, 4, "champions"), (3, 3, "loyal"), (5, 3, "loyal"),
    (4, 1, "new"), (5, 2, "promising"), (3, 1, "promising"), (2, 3, "at_risk"),
    (1, 5, "at_risk"), (2, 2, "hibernating"), (1, 1, "hibernating"),
])
def test_rfm_segments(r: int, f: int, segment: str) -> None:
    assert rfm_segment(r, f) == segment


def test_revenue_counts_paid_orders_minus_refunds(order) -> None:
    orders = [
        order("1", amount="100.00"),
        order("2", amount="40.00", status="fulfilled"),
        order("3", amount="60.00", status="partially_refunded", refunded="15.50"),
        order("4", amount="80.00", status="refunded", refunded="80.00"),
        order("5", amount="999.00", status="pending"),
        order("6", amount="999.00", status="cancelled"),
    ]
    assert revenue(orders) == Decimal("184.50")


def test_compute_on_a_profile(profile, order, now) -> None:
    result = compute(profile([order("1", days_ago=40, amount="120"),
                              order("2", days_ago=5, amount="30", status="cancelled"),
                              order("3", days_ago=20, amount="200")]), now, DEFAULTS)
    assert result == {
        "order_count": 2, "revenue": "320.00",
        "last_order_date": (now - timedelta(days=20)).date().isoformat(),
        "lifecycle_stage": "repeat", "rfm_score": "523", "rfm_segment": "promising",
        "satisfaction_score": None, "advocate_status": None, "referral_count": None,
    }
    lead = compute(profile([]), now, DEFAULTS)
    assert lead["lifecycle_stage"] == "lead"
    assert (lead["order_count"], lead["revenue"], lead["rfm_segment"]) == (0, "0.00", None)
    advocate = compute(profile([order("1")], referral_count=1), now, DEFAULTS)
    assert (advocate["lifecycle_stage"], advocate["referral_count"]) == ("advocate", 1)


def test_the_referral_ledger_feeds_satisfaction_advocacy_and_referral_count(
        profile, order, now) -> None:
    from shoploop.hooks import ReferralStanding

    base = profile([order("1")])
    cases = [(ReferralStanding(), (None, None, None)),
             (ReferralStanding(satisfaction_score=2), (2, None, None)),
             (ReferralStanding(satisfaction_score=4, codes=1), (4, "invited", 0)),
             (ReferralStanding(satisfaction_score=5, codes=1, referrals=2),
              (5, "referred", 0)),
             (ReferralStanding(satisfaction_score=5, codes=2, referrals=2, successful=2,
                               rewarded=1), (5, "advocate", 2))]
    for standing, expected in cases:
        result = compute(base.model_copy(update={"referral": standing}), now, DEFAULTS)
        assert (result["satisfaction_score"], result["advocate_status"],
                result["referral_count"]) == expected
        assert (result["lifecycle_stage"] == "advocate") == bool(expected[2])
    # referral_count from outside the ledger still counts (and still makes an advocate).
    other = compute(profile([order("1")], referral_count=3), now, DEFAULTS)
    assert (other["referral_count"], other["lifecycle_stage"]) == (3, "advocate")


_statuses = st.sampled_from(["pending", "paid", "fulfilled", "cancelled", "refunded",
                             "partially_refunded"])
_orders = st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 100_000), _statuses,
                             st.integers(0, 100)), max_size=12)


def _build(order, specs) -> list[Order]:
    built = []
    for index, (days, cents, status, refund_pct) in enumerate(specs):
        amount = Decimal(cents) / 100
        refunded = (amount * refund_pct / 100).quantize(Decimal("0.01")) \
            if status in ("refunded", "partially_refunded") else Decimal(0)
        built.append(order(str(index), days_ago=days, amount=str(amount), status=status,
                           refunded=str(refunded)))
    return built


@given(specs=_orders, referrals=st.integers(0, 3))
def test_stage_and_segment_always_allowed(profile, order, now, specs, referrals) -> None:
    result = compute(profile(_build(order, specs), referral_count=referrals), now, DEFAULTS)
    assert result["lifecycle_stage"] in LIFECYCLE_STAGES
    assert result["rfm_segment"] is None or result["rfm_segment"] in RFM_SEGMENTS


@given(specs=_orders)
def test_revenue_is_paid_lines_minus_refunds(order, specs) -> None:
    orders = _build(order, specs)
    expected = sum((o.total - o.refunded_total for o in orders
                    if o.status in ("paid", "fulfilled", "partially_refunded", "refunded")),
                   Decimal(0))
    assert revenue(orders) == expected
    assert revenue(orders) >= 0


@given(older=st.integers(0, 3000), newer=st.integers(0, 3000))
def test_more_recent_purchase_never_lowers_recency(older: int, newer: int) -> None:
    recent, old = sorted((older, newer))
    assert recency_score(recent, DEFAULTS) >= recency_score(old, DEFAULTS)


@given(count=st.integers(0, 50), extra=st.integers(0, 50))
def test_more_orders_never_lower_frequency(count: int, extra: int) -> None:
    assert frequency_score(count + extra, DEFAULTS) >= frequency_score(count, DEFAULTS)
