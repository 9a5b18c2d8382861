"""The statistics against simulations with a known truth (seeded, vectorised: one array
element per simulated experiment) and against scipy's reference implementations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from shoploop.experiments import (
    sample_size_means,
    sample_size_proportions,
    two_proportions,
    verdict,
    welch,
    welch_from_sums,
)

RUNS = 4000
"""Simulated experiments per check: the rate's standard error is ≤ 0.8 % (sqrt(.25/4000))."""


def _tolerance(rate: float) -> float:
    """Four standard errors of a rate estimated from RUNS simulated experiments."""
    return 4 * math.sqrt(rate * (1 - rate) / RUNS)


@pytest.mark.parametrize(("baseline", "lift", "power"),
                         [(0.05, 0.2, 0.8), (0.02, 0.5, 0.9), (0.3, 0.05, 0.8)])
def test_a_known_uplift_is_found_at_the_stated_power(baseline: float, lift: float,
                                                     power: float) -> None:
    n = sample_size_proportions(baseline, lift, alpha=0.05, power=power)
    rng = np.random.default_rng(17)
    control = rng.binomial(n, baseline, RUNS)
    treatment = rng.binomial(n, baseline * (1 + lift), RUNS)
    found = two_proportions(control, n, treatment, n, alpha=0.05)
    detected = float(np.mean(found.significant & (found.difference > 0)))
    assert abs(detected - power) <= _tolerance(power), (n, detected)


@pytest.mark.parametrize(("baseline", "alpha"), [(0.05, 0.05), (0.01, 0.05), (0.2, 0.01)])
def test_a_a_stays_within_the_stated_false_positive_rate(baseline: float,
                                                         alpha: float) -> None:
    rng = np.random.default_rng(4)
    n = 20_000
    a, b = rng.binomial(n, baseline, RUNS), rng.binomial(n, baseline, RUNS)
    false_positive = float(np.mean(two_proportions(a, n, b, n, alpha=alpha).significant))
    assert false_positive <= alpha + _tolerance(alpha)
    # …and the test is not trivially conservative (a test that never rejects passes the above)
    assert false_positive >= alpha - _tolerance(alpha)


def _revenue(rng: np.random.Generator, runs: int, n: int, conversion: float,
             mean_order: float) -> np.ndarray:
    """Revenue per exposed unit: mostly 0, lognormal order values for the converters."""
    converted = rng.random((runs, n)) < conversion
    sigma = 0.8
    values = rng.lognormal(math.log(mean_order) - sigma**2 / 2, sigma, (runs, n))
    return np.where(converted, values, 0.0)


def _revenue_sd(conversion: float, mean_order: float) -> float:
    second = conversion * mean_order**2 * math.exp(0.8**2)  # E[X²] of the lognormal part
    return math.sqrt(second - (conversion * mean_order) ** 2)


def test_welch_finds_a_revenue_uplift_at_the_stated_power_and_holds_alpha_in_a_a() -> None:
    conversion, mean_order, lift = 0.1, 50.0, 0.25
    effect = conversion * mean_order * lift
    n = sample_size_means(_revenue_sd(conversion, mean_order), effect, power=0.8,
                          treatment_deviation=_revenue_sd(conversion, mean_order * (1 + lift)))
    runs = 1000
    rng = np.random.default_rng(9)
    control = _revenue(rng, runs, n, conversion, mean_order)
    treatment = _revenue(rng, runs, n, conversion, mean_order * (1 + lift))
    again = _revenue(rng, runs, n, conversion, mean_order)

    def compare(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        found = welch_from_sums(a.sum(1), (a * a).sum(1), n, b.sum(1), (b * b).sum(1), n)
        return np.asarray(found.significant & (found.difference > 0)
                          if b is treatment else found.significant)

    tolerance = 4 * math.sqrt(0.8 * 0.2 / runs)
    assert abs(float(np.mean(compare(control, treatment))) - 0.8) <= tolerance
    assert float(np.mean(compare(control, again))) <= 0.05 + 4 * math.sqrt(0.05 * .95 / runs)


def test_the_interval_covers_the_true_difference_at_its_level() -> None:
    rng = np.random.default_rng(23)
    n, pa, pb = 5000, 0.1, 0.12
    found = two_proportions(rng.binomial(n, pa, RUNS), n, rng.binomial(n, pb, RUNS), n)
    covered = float(np.mean((found.low <= pb - pa) & (pb - pa <= found.high)))
    assert abs(covered - 0.95) <= _tolerance(0.95)


@given(st.integers(2, 500), st.integers(2, 500), st.integers(0, 10_000), st.integers(0, 99))
def test_welch_matches_scipy(n_a: int, n_b: int, seed: int, shift: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.exponential(10, n_a), rng.exponential(10, n_b) + shift / 10
    ours = welch(a.mean(), a.var(ddof=1), n_a, b.mean(), b.var(ddof=1), n_b)
    theirs = stats.ttest_ind(b, a, equal_var=False)
    assert float(ours.p_value) == pytest.approx(theirs.pvalue, rel=1e-6, abs=1e-12)
    interval = theirs.confidence_interval(0.95)
    assert float(ours.low) == pytest.approx(interval.low, rel=1e-6, abs=1e-9)
    assert float(ours.high) == pytest.approx(interval.high, rel=1e-6, abs=1e-9)


def test_two_proportions_by_hand() -> None:
    # 100/1000 vs 130/1000: pooled 0.115, se = sqrt(.115 * .885 * 2/1000) = 0.014267
    found = two_proportions(100, 1000, 130, 1000)
    z = 0.03 / math.sqrt(0.115 * 0.885 * 0.002)
    assert float(found.p_value) == pytest.approx(2 * stats.norm.sf(z))
    assert float(found.relative_lift) == pytest.approx(0.3)
    half = 1.959964 * math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    assert (float(found.low), float(found.high)) == pytest.approx((0.03 - half, 0.03 + half),
                                                                   rel=1e-5)


def test_empty_arms_give_nan_not_errors() -> None:
    found = two_proportions(0, 0, 0, 0)
    assert math.isnan(float(found.p_value)) and not bool(found.significant)


def test_sample_sizes_against_the_textbook() -> None:
    # 5 % → 6 % at alpha .05, power .8: about 8,155 per arm (Fleiss, no continuity correction)
    assert sample_size_proportions(0.05, 0.2) == pytest.approx(8155, abs=5)
    # sd 1, effect 0.1: 2 (1.95996 + 0.84162)² / 0.01 = 1569.8
    assert sample_size_means(1.0, 0.1) == 1570
    with pytest.raises(ValueError, match="baseline rate"):
        sample_size_proportions(0.0, 0.1)
    with pytest.raises(ValueError, match="keep the rate"):
        sample_size_proportions(0.9, 0.5)


def test_no_winner_before_the_horizon_even_when_p_is_tiny() -> None:
    found = two_proportions(10, 1000, 100, 1000)
    assert bool(found.significant)
    early = verdict(found, control="a", treatment="b", smallest_arm=1000,
                    planned_per_arm=5000, stopped=False)
    assert (early.status, early.winner) == ("not_yet_at_horizon", None)
    stopped = verdict(found, control="a", treatment="b", smallest_arm=1000,
                      planned_per_arm=5000, stopped=True)
    assert (stopped.status, stopped.winner) == ("underpowered", None)
    done = verdict(found, control="a", treatment="b", smallest_arm=5000,
                   planned_per_arm=5000, stopped=True)
    assert (done.status, done.winner) == ("significant", "b")
    flat = verdict(two_proportions(100, 1000, 101, 1000), control="a", treatment="b",
                   smallest_arm=5000, planned_per_arm=5000, stopped=False)
    assert (flat.status, flat.winner) == ("not_significant", None)


def test_peeking_every_day_would_inflate_false_positives() -> None:
    """Why the fixed horizon: stopping at the first daily p < alpha in an A/A test rejects far
    more often than alpha, while reading once at the horizon does not."""
    rng = np.random.default_rng(5)
    runs, days, per_day, rate = 2000, 20, 500, 0.05
    a = rng.binomial(per_day, rate, (runs, days)).cumsum(1)
    b = rng.binomial(per_day, rate, (runs, days)).cumsum(1)
    n = per_day * np.arange(1, days + 1)
    daily = two_proportions(a, n, b, n).significant
    peeking = float(np.mean(daily.any(1)))
    horizon = float(np.mean(daily[:, -1]))
    assert horizon <= 0.05 + 4 * math.sqrt(0.05 * 0.95 / runs)
    assert peeking > 2 * 0.05
