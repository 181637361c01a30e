"""bench/confidence.py: the bounds are the order statistics the binomial says, they reach the
stated confidence, too few samples give no bound, and a row holds on its bound, not its value."""

from __future__ import annotations

import random

import pytest

from bench.common import Row
from bench.confidence import CONFIDENCE, binomial_cdf, median_bound, quantile_upper_bound, sureness


def test_the_binomial_cdf_is_exact():
    assert binomial_cdf(0, 4, 0.5) == pytest.approx(1 / 16)
    assert binomial_cdf(2, 12, 0.5) == pytest.approx(79 / 4096)
    assert binomial_cdf(-1, 5, 0.3) == 0 and binomial_cdf(5, 5, 0.3) == pytest.approx(1)


def test_median_bounds_are_the_sign_tests_order_statistics():
    samples = [1.0, 5.0, 3.0, 2.0, 4.0, 9.0, 7.0, 8.0, 6.0, 10.0, 12.0, 11.0]
    # n = 12: P(Bin <= 2) = 0.019, P(Bin <= 3) = 0.073, P(Bin <= 4) = 0.194 -> k = 4 (risk 0.073)
    assert median_bound(samples, "lower") == (4.0, pytest.approx(1 - 299 / 4096))
    assert median_bound(samples, "upper") == (9.0, pytest.approx(1 - 299 / 4096))
    assert median_bound([1.0, 2.0, 3.0, 4.0], "lower") == (1.0, pytest.approx(15 / 16))
    assert median_bound([1.0, 2.0, 3.0], "lower") == (None, 0.0)  # 1/8 > 10 %: too few
    with pytest.raises(ValueError):
        median_bound(samples, "sideways")


def test_a_quantile_bound_needs_enough_samples():
    assert quantile_upper_bound([float(i) for i in range(20)], 0.95) == (None, 0.0)  # 1 - 0.95^20 = 0.64
    bound, achieved = quantile_upper_bound([float(i) for i in range(45)], 0.95)
    assert bound == 44.0 and achieved >= CONFIDENCE
    bound, achieved = quantile_upper_bound([float(i) for i in range(200)], 0.95)
    assert 190 <= bound < 199 and achieved >= CONFIDENCE


def test_the_bounds_reach_their_confidence_on_random_data():
    """Over many draws from a skewed distribution whose median and p95 are known, the bound is
    on the right side of the true value at least CONFIDENCE of the time."""
    rnd = random.Random(7)
    true_median, true_p95 = 1.0, 2.0 ** (1.6448536 / 1.0)  # lognormal(0, ln 2): median 1, p95 2^1.645
    median_misses = p95_misses = 0
    for _ in range(2000):
        draws = [rnd.lognormvariate(0, 0.6931472) for _ in range(50)]
        median_misses += median_bound(draws, "lower")[0] > true_median
        p95_misses += quantile_upper_bound(draws, 0.95)[0] < true_p95
    assert median_misses / 2000 <= 1 - CONFIDENCE + 0.02
    assert p95_misses / 2000 <= 1 - CONFIDENCE + 0.02


def test_a_row_holds_on_its_bound_not_on_its_value():
    noisy = Row("r", 1.0, ">=", 0.97, "ratio", samples=[1.0, 1.1, 0.8, 0.9, 1.2, 1.05])
    steady = Row("r", 1.0, ">=", 0.97, "ratio", samples=[1.0, 0.99, 1.01, 0.98, 1.0, 1.02])
    few = Row("r", 1.0, ">=", 0.97, "ratio", samples=[1.0, 1.0, 1.0])
    none = Row("r", 1.0, ">=", 0.97, "ratio")
    assert noisy.value >= noisy.goal and not noisy.holds  # its bound is 0.8
    assert steady.holds
    assert not few.holds and not none.holds
    result = noisy.result()
    assert result["spread"] == [0.8, 1.2] and result["bound"] == 0.8 and result["n"] == 6
    assert sureness([5.0] * 45, "p95", "<=").bound == 5.0
    with pytest.raises(ValueError):
        sureness([1.0] * 10, "p95", ">=")
