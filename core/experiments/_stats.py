"""The statistics of an experiment: tests with confidence intervals, sample sizes, and the
fixed-horizon rule that decides when a result may be read (docs/experiments.md).

Pure functions over counts and sums, so a report needs no raw rows and the simulation tests
can pass numpy arrays (one element per simulated experiment) instead of looping:

- rates (CTR, conversion): the two-proportion z-test, pooled standard error for the test,
  unpooled (Wald) for the interval of the difference;
- revenue per exposure: Welch's t-test (unequal variances, Welch-Satterthwaite degrees of
  freedom) on per-unit sums; revenue is skewed and zero-heavy, which the t-test tolerates at
  the sample sizes a revenue test needs anyway (the central limit theorem on the mean);
- sample size per arm for a minimum detectable effect at ``alpha`` (two-sided) and ``power``;
- :func:`verdict`: no winner before every arm reached the planned sample size. Looking at a
  fixed-horizon test every day and stopping at the first p < 0.05 inflates the false-positive
  rate several-fold, so before the horizon a report shows the figures but no decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _scipy_stats() -> Any:
    # scipy.stats costs ~0.5 s to import; every CLI command loads this module through the
    # config, and only a report needs it (issue 18's start-up time).
    import scipy.stats

    return scipy.stats


Float = NDArray[np.float64]

Status = Literal["not_yet_at_horizon", "underpowered", "significant", "not_significant"]


@dataclass(frozen=True)
class Comparison:
    """Treatment against control for one metric. Scalars for one experiment; arrays of the
    same shape when the inputs were arrays (simulations)."""

    control: Float
    treatment: Float
    difference: Float
    """Treatment minus control, in the metric's unit."""
    low: Float
    high: Float
    """The ``1 - alpha`` confidence interval of ``difference``."""
    p_value: Float
    alpha: float

    @property
    def significant(self) -> NDArray[np.bool_]:
        return np.asarray(self.p_value < self.alpha)

    @property
    def relative_lift(self) -> Float:
        """``difference / control`` (nan where control is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.control != 0, self.difference / self.control, np.nan)


def _check_alpha(alpha: float, power: float | None = None) -> None:
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must be in (0, 0.5), got {alpha}; use e.g. 0.05")
    if power is not None and not 0.5 < power < 1:
        raise ValueError(f"power must be in (0.5, 1), got {power}; use e.g. 0.8")


def two_proportions(successes_a: ArrayLike, n_a: ArrayLike, successes_b: ArrayLike,
                    n_b: ArrayLike, *, alpha: float = 0.05) -> Comparison:
    """Two-sided two-proportion z-test of rate b (treatment) against rate a (control).

    The test uses the pooled rate (the null says both rates are equal); the interval uses
    each arm's own rate, since it describes the difference, not the null. An arm with no
    trials gives nan, never a division error."""
    _check_alpha(alpha)
    xa, na = np.asarray(successes_a, float), np.asarray(n_a, float)
    xb, nb = np.asarray(successes_b, float), np.asarray(n_b, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pa, pb = xa / na, xb / nb
        pooled = (xa + xb) / (na + nb)
        se_null = np.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        diff = pb - pa
        z = np.where(se_null > 0, diff / se_null, 0.0)
        se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
    stats = _scipy_stats()
    p_value = 2 * stats.norm.sf(np.abs(z))
    p_value = np.where(np.isnan(diff), np.nan, p_value)
    half = stats.norm.ppf(1 - alpha / 2) * se
    return Comparison(pa, pb, diff, diff - half, diff + half, p_value, alpha)


def welch(mean_a: ArrayLike, var_a: ArrayLike, n_a: ArrayLike, mean_b: ArrayLike,
          var_b: ArrayLike, n_b: ArrayLike, *, alpha: float = 0.05) -> Comparison:
    """Two-sided Welch t-test of mean b (treatment) against mean a (control) from summary
    figures (``var_*``: the sample variances, ``ddof=1``). Both variances 0 with equal means
    give p = 1; with different means, p = 0 (the interval is the point)."""
    _check_alpha(alpha)
    ma, va, na = (np.asarray(v, float) for v in (mean_a, var_a, n_a))
    mb, vb, nb = (np.asarray(v, float) for v in (mean_b, var_b, n_b))
    with np.errstate(divide="ignore", invalid="ignore"):
        sa, sb = va / na, vb / nb
        se = np.sqrt(sa + sb)
        diff = mb - ma
        t = np.where(se > 0, diff / se, np.where(diff == 0, 0.0, np.inf * np.sign(diff)))
        df = np.where(se > 0, (sa + sb) ** 2 / (sa**2 / (na - 1) + sb**2 / (nb - 1)), np.inf)
    stats = _scipy_stats()
    p_value = 2 * stats.t.sf(np.abs(t), df)
    half = stats.t.ppf(1 - alpha / 2, df) * se
    half = np.where(se > 0, half, 0.0)
    return Comparison(ma, mb, diff, diff - half, diff + half, p_value, alpha)


def welch_from_sums(sum_a: ArrayLike, sum_squares_a: ArrayLike, n_a: ArrayLike,
                    sum_b: ArrayLike, sum_squares_b: ArrayLike, n_b: ArrayLike, *,
                    alpha: float = 0.05) -> Comparison:
    """:func:`welch` from per-arm sums of the values and of their squares (what a store
    query returns without fetching the rows)."""
    def moments(total: ArrayLike, squares: ArrayLike, n: ArrayLike) -> tuple[Float, Float]:
        s, q, k = np.asarray(total, float), np.asarray(squares, float), np.asarray(n, float)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = s / k
            var = np.maximum(q - k * mean * mean, 0.0) / (k - 1)
        return mean, var

    ma, va = moments(sum_a, sum_squares_a, n_a)
    mb, vb = moments(sum_b, sum_squares_b, n_b)
    return welch(ma, va, n_a, mb, vb, n_b, alpha=alpha)


def sample_size_proportions(baseline: float, relative_effect: float, *, alpha: float = 0.05,
                            power: float = 0.8) -> int:
    """Units per arm for a two-sided two-proportion test to detect a rate moving from
    ``baseline`` to ``baseline * (1 + relative_effect)`` with probability ``power``
    (Fleiss' formula without continuity correction)."""
    _check_alpha(alpha, power)
    if not 0 < baseline < 1:
        raise ValueError(f"baseline rate must be in (0, 1), got {baseline}; "
                         "estimate it from the placement's current figures")
    target = baseline * (1 + relative_effect)
    if relative_effect == 0 or not 0 < target < 1:
        raise ValueError(f"baseline {baseline} with relative effect {relative_effect} gives "
                         f"rate {target}; the effect must be non-zero and keep the rate in (0, 1)")
    stats = _scipy_stats()
    z_a, z_b = float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))
    mean = (baseline + target) / 2
    root = (z_a * math.sqrt(2 * mean * (1 - mean))
            + z_b * math.sqrt(baseline * (1 - baseline) + target * (1 - target)))
    return math.ceil(root**2 / (target - baseline) ** 2)


def sample_size_means(standard_deviation: float, absolute_effect: float, *,
                      alpha: float = 0.05, power: float = 0.8,
                      treatment_deviation: float | None = None) -> int:
    """Units per arm for a two-sided test of means to detect ``absolute_effect`` when the
    control's values have ``standard_deviation`` (and the treatment's ``treatment_deviation``,
    the same when not given; normal approximation, equal arms). Revenue's deviation grows
    with its mean, so planning an uplift with the control's deviation alone falls short of
    the power (0.69 instead of 0.8 for a 25 % uplift in the tests): pass the deviation the
    treatment would have, or plan with a margin."""
    _check_alpha(alpha, power)
    other = standard_deviation if treatment_deviation is None else treatment_deviation
    if standard_deviation <= 0 or other <= 0 or absolute_effect == 0:
        raise ValueError("standard deviations must be > 0 and the effect non-zero; estimate "
                         "the deviation from the placement's current revenue per exposure")
    stats = _scipy_stats()
    z_a, z_b = float(stats.norm.ppf(1 - alpha / 2)), float(stats.norm.ppf(power))
    return math.ceil((z_a + z_b) ** 2 * (standard_deviation**2 + other**2)
                     / absolute_effect**2)


@dataclass(frozen=True)
class Verdict:
    status: Status
    winner: str | None
    message: str


def verdict(comparison: Comparison, *, control: str, treatment: str, smallest_arm: int,
            planned_per_arm: int | None, stopped: bool) -> Verdict:
    """The fixed-horizon reading of one comparison: a winner only once every arm has
    ``planned_per_arm`` units; an experiment that stopped short of it is ``underpowered``
    (its figures are reported, its p-value decides nothing)."""
    if planned_per_arm is None:
        return Verdict("underpowered", None, "no sample size could be planned (no baseline "
                       "yet); set baseline_rate or run longer, no winner is declared")
    if smallest_arm < planned_per_arm:
        status: Status = "underpowered" if stopped else "not_yet_at_horizon"
        what = ("stopped before the planned sample size" if stopped
                else "not yet at the planned sample size")
        return Verdict(status, None, f"{what}: {smallest_arm} of {planned_per_arm} units in "
                       "the smallest arm; no winner is declared")
    p = float(comparison.p_value)
    if p < comparison.alpha:
        better = treatment if float(comparison.difference) > 0 else control
        return Verdict("significant", better, f"{treatment} vs {control}: p = {p:.4f} < "
                       f"{comparison.alpha}; {better} is better")
    return Verdict("not_significant", None, f"{treatment} vs {control}: p = {p:.4f} ≥ "
                   f"{comparison.alpha}; no difference of the planned size was found")


__all__ = ["Comparison", "Verdict", "sample_size_means", "sample_size_proportions",
           "two_proportions", "verdict", "welch", "welch_from_sums"]
