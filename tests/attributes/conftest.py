"""Shared builders for the derived-attribute tests (test modules can't import each other)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from shoploop.hooks import Customer, CustomerProfile, LineItem, Order

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def make_order(order_id: str, *, days_ago: int = 10, amount: str = "50.00",
               status: str = "paid", refunded: str = "0", customer_id: str | None = None,
               email: str | None = None) -> Order:
    return Order.model_validate({
        "id": order_id, "customer_id": customer_id, "email": email,
        "placed_at": NOW - timedelta(days=days_ago), "status": status,
        "lines": [LineItem(name="item", quantity=1, unit_price=Decimal(amount))],
        "refunded_total": Decimal(refunded),
    })


def make_profile(orders: list[Order], **attributes: int) -> CustomerProfile:
    return CustomerProfile(customer=Customer(id="c1", email="a@example.com"), orders=orders,
                           attributes=dict(attributes))


@pytest.fixture(scope="session")
def now() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def order():
    """The order factory (``make_order``) for test modules."""
    return make_order


@pytest.fixture(scope="session")
def profile():
    """The profile factory (``make_profile``) for test modules."""
    return make_profile
