"""The rules of the built-in derived attributes, as pure functions of orders and a time.

Pure so that they can be tested at their boundaries (and with hypothesis) without a store,
and reused by third-party plugins that want e.g. the same revenue definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from shoploop.hooks import Order

from ._settings import AttributeSettings

LifecycleStage = Literal["lead", "first_time_buyer", "repeat", "loyal", "advocate", "at_risk",
                         "lapsed"]
LIFECYCLE_STAGES: tuple[LifecycleStage, ...] = (
    "lead", "first_time_buyer", "repeat", "loyal", "advocate", "at_risk", "lapsed")
RfmSegment = Literal["champions", "loyal", "new", "promising", "at_risk", "hibernating"]
RFM_SEGMENTS: tuple[RfmSegment, ...] = (
    "champions", "loyal", "new", "promising", "at_risk", "hibernating")

#: Orders that count as purchases: paid (possibly shipped), refunds subtracted from revenue.
PURCHASE_STATUSES = frozenset({"paid", "fulfilled", "partially_refunded"})
#: Orders whose money counts: purchases and fully refunded ones (their net is usually zero).
REVENUE_STATUSES = PURCHASE_STATUSES | {"refunded"}


def aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so mirrored data from any source compares."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def purchases(orders: Iterable[Order]) -> list[Order]:
    """The orders that count as purchases (not pending, cancelled or fully refunded)."""
    return [order for order in orders if order.status in PURCHASE_STATUSES]


def revenue(orders: Iterable[Order]) -> Decimal:
    """Sum of paid lines minus refunds; an order never contributes less than zero."""
    total = Decimal(0)
    for order in orders:
        if order.status in REVENUE_STATUSES:
            total += max(order.total - order.refunded_total, Decimal(0))
    return total.quantize(Decimal("0.01"))


def last_order_at(orders: Sequence[Order]) -> datetime | None:
    return max((aware(order.placed_at) for order in purchases(orders)), default=None)


def days_since(moment: datetime, now: datetime) -> int:
    """Whole days between ``moment`` and ``now`` (never negative)."""
    return max((aware(now) - aware(moment)).days, 0)


def lifecycle_stage(order_count: int, days_since_last: int | None, referrals: int,
                    settings: AttributeSettings) -> LifecycleStage:
    """First matching rule wins: lead, lapsed, at_risk, advocate, loyal, repeat, first-time."""
    if order_count == 0 or days_since_last is None:
        return "lead"
    if days_since_last >= settings.lapsed_after_days:
        return "lapsed"
    if days_since_last >= settings.at_risk_after_days:
        return "at_risk"
    if referrals >= settings.advocate_min_referrals:
        return "advocate"
    if order_count >= settings.loyal_min_orders:
        return "loyal"
    if order_count >= 2:
        return "repeat"
    return "first_time_buyer"


def recency_score(days_since_last: int, settings: AttributeSettings) -> int:
    """5 for ≤ recency_days[0] days, … 2 for ≤ recency_days[3], else 1."""
    for score, bound in zip((5, 4, 3, 2), settings.recency_days, strict=True):
        if days_since_last <= bound:
            return score
    return 1


def _rising_score(value: Decimal | int, bounds: list[int]) -> int:
    return 1 + sum(1 for bound in bounds if value >= bound)


def frequency_score(order_count: int, settings: AttributeSettings) -> int:
    return _rising_score(order_count, settings.frequency_orders)


def monetary_score(amount: Decimal, settings: AttributeSettings) -> int:
    return _rising_score(amount, settings.monetary)


def rfm_segment(recency: int, frequency: int) -> RfmSegment:
    """Named segment from the R and F scores (M is reported as a score only)."""
    if recency >= 4 and frequency >= 4:
        return "champions"
    if recency >= 3 and frequency >= 3:
        return "loyal"
    if recency >= 4 and frequency == 1:
        return "new"
    if recency >= 3:
        return "promising"
    if frequency >= 3:
        return "at_risk"
    return "hibernating"
