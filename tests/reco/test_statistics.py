"""The statistics behind the strategies, for any input (hypothesis): Dunning's G², the sparse
bought-together fit against a plain counting loop, grouped medians of purchase intervals."""

from __future__ import annotations

import math
import statistics
from itertools import combinations, pairwise

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shoploop.reco._cooccurrence import fit_bought_together, llr, llr_score
from shoploop.reco._intervals import due_score, fit_intervals
from shoploop.reco._purchase_days import day_runs, purchase_days


@st.composite
def tables(draw: st.DrawFn) -> tuple[int, int, int, int]:
    """(k11, count_a, count_b, n) of a feasible 2x2 table."""
    n = draw(st.integers(1, 10_000))
    a = draw(st.integers(0, n))
    b = draw(st.integers(0, n))
    k11 = draw(st.integers(max(0, a + b - n), min(a, b)))
    return k11, a, b, n


def reference_g2(k11: int, a: int, b: int, n: int) -> float:
    cells = [(k11, a, b), (a - k11, a, n - b), (b - k11, n - a, b),
             (n - a - b + k11, n - a, n - b)]
    return 2 * sum(k * math.log(k * n / (row * col)) for k, row, col in cells if k > 0)


@given(tables())
def test_llr_is_dunnings_g2_and_symmetric(table: tuple[int, int, int, int]) -> None:
    k11, a, b, n = table
    value = float(llr(k11, a, b, n))
    assert value >= 0
    assert math.isclose(value, max(0.0, reference_g2(k11, a, b, n)), rel_tol=1e-9,
                        abs_tol=1e-9)
    assert math.isclose(value, float(llr(k11, b, a, n)), rel_tol=1e-12, abs_tol=1e-12)


@given(st.integers(1, 100), st.integers(1, 100), st.integers(1, 50))
def test_llr_is_zero_for_independent_products(rows: int, cols: int, scale: int) -> None:
    # Independence exactly: n = rows·cols·scale orders, A in cols·scale·…; k11 = a·b/n.
    n = rows * cols * scale
    a, b = cols * scale, rows * scale  # shares 1/rows and 1/cols
    k11 = a * b // n
    assume(k11 * n == a * b)
    assert float(llr(k11, a, b, n)) < 1e-9


@given(tables())
def test_llr_rises_with_co_occurrence_above_expectation(
        table: tuple[int, int, int, int]) -> None:
    k11, a, b, n = table
    assume(k11 * n >= a * b and k11 + 1 <= min(a, b))
    assert float(llr(k11 + 1, a, b, n)) >= float(llr(k11, a, b, n)) - 1e-9


@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=20),
       st.floats(0.1, 100))
def test_llr_score_is_monotone_between_0_and_1(values: list[float], half: float) -> None:
    scores = llr_score(sorted(values), half)
    assert np.all((scores >= 0) & (scores < 1))
    assert np.all(np.diff(scores) >= 0)


baskets = st.lists(st.sets(st.integers(0, 7), min_size=1, max_size=5), min_size=1,
                   max_size=60)


@settings(deadline=None)  # the first example imports scipy: no timing under load
@given(baskets, st.integers(1, 4), st.integers(1, 8))
def test_sparse_fit_equals_a_counting_loop(orders: list[set[int]], min_support: int,
                                           keep: int) -> None:
    line_order = np.array([o for o, items in enumerate(orders) for _ in items], dtype=np.int32)
    line_product = np.array([p for items in orders for p in sorted(items)], dtype=np.int32)
    fitted = fit_bought_together(line_order, line_product, 8, min_support=min_support,
                                 min_llr=0.0, neighbours=keep)
    n = len(orders)
    count = [sum(p in items for items in orders) for p in range(8)]
    together: dict[tuple[int, int], int] = {}
    for items in orders:
        for x, y in combinations(sorted(items), 2):
            together[(x, y)] = together.get((x, y), 0) + 1
            together[(y, x)] = together.get((y, x), 0) + 1
    assert fitted.orders == n and fitted.orders_with.tolist() == count
    for product in range(8):
        expected = sorted(
            ((float(llr(k, count[x], count[y], n)), y, k) for (x, y), k in together.items()
             if x == product and k >= min_support and k * n > count[x] * count[y]),
            key=lambda entry: (-entry[2], -entry[0], entry[1]))[:keep]
        span = fitted.of(product)
        got = list(zip(fitted.llr[span].tolist(), fitted.partner[span].tolist(),
                       fitted.together[span].tolist(), strict=True))
        assert [(y, k) for _, y, k in got] == [(y, k) for _, y, k in expected]
        assert np.allclose([g for g, _, _ in got], [g for g, _, _ in expected], rtol=1e-5)


@given(st.lists(st.sets(st.integers(0, 400), min_size=1, max_size=12), min_size=1,
                max_size=4), st.integers(3, 5))
def test_intervals_are_each_customers_median(days_per_customer: list[set[int]],
                                             min_repeats: int) -> None:
    # One product (0), one order per day per customer, plus a second product on day 0 only.
    orders = [(c, d) for c, days in enumerate(days_per_customer) for d in sorted(days)]
    order_customer = np.array([c for c, _ in orders], dtype=np.int32)
    order_day = np.array([20_000 + d for _, d in orders], dtype=np.int32)
    line_order = np.arange(len(orders), dtype=np.int32)
    line_product = np.zeros(len(orders), dtype=np.int32)
    fitted = fit_intervals(purchase_days(order_customer, order_day, line_order, line_product,
                                         2), len(days_per_customer), min_repeats=min_repeats)
    for customer, days in enumerate(days_per_customer):
        span = fitted.of(customer)
        if len(days) < min_repeats:
            assert span.stop == span.start
            continue
        ordered = sorted(days)
        gaps = [b - a for a, b in pairwise(ordered)]
        median = statistics.median(gaps)
        assert fitted.product[span].tolist() == [0]
        assert math.isclose(float(fitted.median_days[span][0]), median, rel_tol=1e-6)
        assert int(fitted.last_day[span][0]) == 20_000 + ordered[-1]
        assert int(fitted.orders[span][0]) == len(days)
        spread = sum(abs(g - median) for g in gaps) / len(gaps)
        assert math.isclose(float(fitted.regularity[span][0]), 1 / (1 + spread / median),
                            rel_tol=1e-5)


def test_repeated_days_count_once_and_guests_are_left_out() -> None:
    order_customer = np.array([0, 0, 0, 0, -1, -1, -1], dtype=np.int32)
    order_day = np.array([10, 10, 20, 30, 10, 20, 30], dtype=np.int32)
    line_order = np.arange(7, dtype=np.int32)
    line_product = np.zeros(7, dtype=np.int32)
    fitted = fit_intervals(purchase_days(order_customer, order_day, line_order, line_product,
                                         1), 1, min_repeats=3)
    assert fitted.orders.tolist() == [3] and fitted.median_days.tolist() == [10.0]


@given(st.floats(0, 500), st.floats(1, 100), st.floats(0.1, 1))
def test_due_only_inside_the_window(since: float, median: float, regularity: float) -> None:
    score = due_score(since, median, regularity, due_window=0.2, lapsed_after=3.0)
    inside = 0.8 * median <= since <= 3 * median
    assert (score is not None) == inside
    if score is not None:
        assert 0 <= score <= regularity


@given(st.dictionaries(st.integers(0, 30), st.sets(st.integers(0, 200), min_size=1,
                                                   max_size=9), max_size=8))
def test_day_runs_equal_plain_medians(days_of: dict[int, set[int]]) -> None:
    # The one sort of the gaps behind intervals, buy again and its timing: per group its
    # days, last days and the median gap with and without the last gap, and the spread.
    group = np.array([g for g in sorted(days_of) for _ in days_of[g]], dtype=np.int64)
    day = np.array([d for g in sorted(days_of) for d in sorted(days_of[g])], dtype=np.int64)
    present, runs = day_runs(group, day)
    assert present.tolist() == sorted(days_of)
    for at, key in enumerate(sorted(days_of)):
        ordered = sorted(days_of[key])
        gaps = [b - a for a, b in pairwise(ordered)]
        median = float(statistics.median(gaps)) if gaps else 0.0
        assert int(runs.count[at]) == len(ordered) and int(runs.last[at]) == ordered[-1]
        assert int(runs.before_last[at]) == (ordered[-2] if len(ordered) > 1 else -1)
        assert float(runs.median_gap[at]) == median
        assert float(runs.median_gap_before_last[at]) == (
            float(statistics.median(gaps[:-1])) if len(gaps) > 1 else 0.0)
        assert float(runs.spread[at]) == (
            sum(abs(g - median) for g in gaps) / len(gaps) if gaps else 0.0)
