"""*Buy again*'s statistics (``_repeats``) for any history (hypothesis), against plain loops:
the per-pair and per-customer figures, the timing factors learned from each customer's last
order day, and the probabilities a lookup reads."""

from __future__ import annotations

import statistics
from collections import defaultdict
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shoploop.reco._purchase_days import purchase_days
from shoploop.reco._repeats import TIMING_EDGES, TIMING_PRIOR, Repeats, fit_repeats

N_PRODUCTS = 5

# Per customer: their orders, each (day, products).
histories = st.lists(
    st.lists(st.tuples(st.integers(0, 60), st.sets(st.integers(0, N_PRODUCTS - 1),
                                                   min_size=1, max_size=3)),
             min_size=0, max_size=8),
    min_size=1, max_size=6)


def arrays(history: list[list[tuple[int, set[int]]]]) -> tuple[np.ndarray, ...]:
    order_customer, order_day, line_order, line_product = [], [], [], []
    for customer, orders in enumerate(history):
        for day, products in orders:
            for product in sorted(products):
                line_order.append(len(order_day))
                line_product.append(product)
            order_customer.append(customer)
            order_day.append(1000 + day)
    order_customer.append(-1)  # a guest order: nobody's history
    order_day.append(1000)
    line_order.append(len(order_day) - 1)
    line_product.append(0)
    return (np.array(order_customer, dtype=np.int32), np.array(order_day, dtype=np.int32),
            np.array(line_order, dtype=np.int32), np.array(line_product, dtype=np.int32))


def fit(history: list[list[tuple[int, set[int]]]], n_products: int) -> Repeats:
    order_customer, order_day, line_order, line_product = arrays(history)
    days = purchase_days(order_customer, order_day, line_order, line_product, n_products)
    return fit_repeats(days, order_customer, order_day, len(history), n_products)


def median_gap(days: list[int]) -> float:
    return float(statistics.median(b - a for a, b in pairwise(days))) if len(days) > 1 else 0.0


def bucket(since: float, base: float) -> int:
    ratio = since / base if base > 0 else float("inf")
    return int(np.searchsorted(TIMING_EDGES, ratio, side="right") - 1)


@settings(max_examples=150, deadline=None)
@given(histories)
def test_repeats_equal_plain_loops(history: list[list[tuple[int, set[int]]]]) -> None:
    fitted = fit(history, N_PRODUCTS)
    days_of: dict[tuple[int, int], list[int]] = defaultdict(list)
    visits: dict[int, list[int]] = defaultdict(list)
    for customer, orders in enumerate(history):
        for day, products in orders:
            visits[customer].append(1000 + day)
            for product in products:
                days_of[(customer, product)].append(1000 + day)
    days_of = {pair: sorted(set(days)) for pair, days in days_of.items()}
    visits = {c: sorted(set(days)) for c, days in visits.items()}
    repurchased = {p for (_, p), days in days_of.items() if len(days) >= 2}

    for customer in range(len(history)):
        span = fitted.of(customer)
        mine = {p: days for (c, p), days in days_of.items() if c == customer}
        assert fitted.product[span].tolist() == sorted(mine)
        assert fitted.orders_with[span].tolist() == [len(mine[p]) for p in sorted(mine)]
        assert fitted.last_day[span].tolist() == [mine[p][-1] for p in sorted(mine)]
        assert fitted.median_days[span].tolist() == [median_gap(mine[p]) for p in sorted(mine)]
        assert int(fitted.customer_orders[customer]) == len(visits.get(customer, []))
        assert float(fitted.customer_gap[customer]) == median_gap(visits.get(customer, []))
    assert set(np.flatnonzero(fitted.repurchased).tolist()) == repurchased

    # The timing factors: each customer's last order day is the "next order" of the rest.
    hits = np.zeros((2, len(TIMING_EDGES)))
    expected = np.zeros((2, len(TIMING_EDGES)))
    gaps = [g for days in visits.values() if (g := median_gap(days)) > 0]
    usual = float(statistics.median(gaps)) if gaps else 30.0
    before = {pair: [d for d in days if d < visits[pair[0]][-1]]
              for pair, days in days_of.items()}
    repurchased_before = {p for (_, p), days in before.items() if len(days) >= 2}
    for (customer, product), earlier in before.items():
        if len(visits[customer]) < 2 or not earlier or product not in repurchased_before:
            continue
        target = visits[customer][-1]
        own = median_gap(earlier)
        gap = median_gap(visits[customer][:-1])
        base = own if own > 0 else gap if gap > 0 else usual
        group = 0 if own > 0 else 1
        at = bucket(target - earlier[-1], base)
        hits[group, at] += target in days_of[(customer, product)]
        expected[group, at] += len(earlier) / len(visits[customer])
    learned = (hits + TIMING_PRIOR) / (expected + TIMING_PRIOR)
    assert np.allclose(fitted.timing_own, learned[0], rtol=1e-5)
    assert np.allclose(fitted.timing_usual, learned[1], rtol=1e-5)

    # A lookup's probabilities: frequency times the factor, at most 1; 0 if nobody rebuys.
    for customer in range(len(history)):
        span, probability = fitted.probabilities(customer, 1070)
        assert np.all((probability >= 0) & (probability <= 1))
        for product, value in zip(fitted.product[span].tolist(), probability.tolist(),
                                  strict=True):
            if product not in repurchased:
                assert value == 0.0
                continue
            days = days_of[(customer, product)]
            own = median_gap(days)
            base = own if own > 0 else (median_gap(visits[customer]) or fitted.usual_gap)
            factor = (fitted.timing_own if own > 0 else fitted.timing_usual)[
                bucket(1070 - days[-1], base)]
            frequency = len(days) / (len(visits[customer]) + 1)
            assert np.isclose(value, min(1.0, frequency * float(factor)), rtol=1e-5)


def test_timing_is_learned_where_it_matters() -> None:
    """Customers who buy coffee every 4th order day and milk every order day: coffee's factor
    is high when due and low just after a purchase; milk's frequency needs no correction."""
    history = [[(day, {0, 1} if day % 4 == 3 else {0}) for day in range(0, 40)]
               for _ in range(30)]
    fitted = fit(history, 2)
    # Coffee: its interval is 4 days; the held-back last day (39) is 4 days after the last
    # purchase (35): the due bucket (0.8 to 1.25 intervals) is where it was bought.
    due = int(np.searchsorted(TIMING_EDGES, 1.0, side="right") - 1)
    assert fitted.timing_own[due] > 1.5
    just_bought = fit([orders[:-3] for orders in history], 2)
    early = int(np.searchsorted(TIMING_EDGES, 0.25, side="right") - 1)
    assert just_bought.timing_own[early] < 1.0
    # A probability that says so (coffee last bought on day 35): due coffee (day 39) is
    # likelier than coffee bought yesterday (day 36); milk is bought every day regardless.
    _, due_now = just_bought.probabilities(0, 1000 + 39)
    _, day_after = just_bought.probabilities(0, 1000 + 36)
    assert due_now[1] > day_after[1]
    assert due_now[0] > due_now[1] and day_after[0] > day_after[1]
