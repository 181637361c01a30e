"""Significance of a before/after difference from per-second samples: a moving-block bootstrap
confidence interval of the difference.

Why per-second samples: consecutive requests are not independent (a slow second is made of
slow requests), so the unit of resampling is the second. Two kinds of samples:

- :class:`Samples`: one number per second from ``report.json``'s ``series`` (requests, errors),
  for throughput and the error rate;
- :class:`LatencySamples`: every request's latency, grouped by second, from the run's
  ``requests.tsv``, for latency percentiles. A resample is a multiset of seconds, and its
  statistic is the exact percentile of *all the requests* of those seconds, with the one
  percentile of the harness (:mod:`harness.analysis.percentile`): the statistic on the
  original seconds is the window's own ``p99_ms``. (The mean of per-second p99s, what this
  used before, is a different number from the window's p99, and not a percentile at all.)

Why a *block* bootstrap: consecutive seconds are correlated (a slow second is followed by slow
seconds; a closed-model load slows down with its target), so resampling single seconds as if
independent would make intervals too narrow and call noise significant. Blocks of
``ceil(n ** (1/3))`` consecutive seconds (the usual rate for the moving-block bootstrap) keep
that short-range dependence inside each resample.

The procedure, for one window and one metric, with ``x`` the before samples and ``y`` the after
samples:

1. draw ``resamples`` moving-block resamples of ``x`` and, independently, of ``y``, each as long
   as the original;
2. compute the statistic on each resample (a mean for throughput; a ratio of sums, errors /
   requests, for the error rate; the percentile of the resample's requests for latency) and
   the difference ``after - before``;
3. the ``confidence`` interval is the percentile interval of those differences (2.5% and 97.5%
   by default); the change is **significant** when the interval excludes 0;
4. ``p`` is the two-sided bootstrap p-value, ``2 * min(P(d <= 0), P(d >= 0))`` over the
   resampled differences (a summary of how often the resamples disagree on the sign).

With fewer than :data:`MIN_SAMPLES` seconds on either side there is no verdict (``None``). The
random generator is seeded from the window and metric names, so the same inputs always give the
same numbers.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import numpy as np

from harness.analysis.percentile import GroupedDurations, percentile_ms

MIN_SAMPLES = 3
"""Fewer seconds than this on either side: no significance verdict."""
RESAMPLES = 4000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Samples:
    """Per-second samples of one run in one window: ``values`` for a mean statistic, or
    ``numerators``/``denominators`` for a ratio of sums (errors / requests)."""

    values: np.ndarray
    denominators: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of seconds."""
        return int(len(self.values))

    @staticmethod
    def mean_of(values: list[float]) -> "Samples":
        """Samples whose statistic is their mean."""
        return Samples(np.asarray(values, dtype=float))

    @staticmethod
    def ratio_of(numerators: list[float], denominators: list[float]) -> "Samples":
        """Samples whose statistic is ``sum(numerators) / sum(denominators)``."""
        return Samples(np.asarray(numerators, dtype=float), np.asarray(denominators, dtype=float))

    def statistic(self, idx: np.ndarray | None = None) -> np.ndarray | float:
        """The statistic of the samples, or of each resample (rows of ``idx``)."""
        if idx is None:
            if self.denominators is None:
                return float(self.values.mean()) if self.n else math.nan
            total = float(self.denominators.sum())
            return float(self.values.sum()) / total if total else math.nan
        if self.denominators is None:
            return self.values[idx].mean(axis=1)
        den = self.denominators[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, self.values[idx].sum(axis=1) / np.where(den > 0, den, 1), np.nan)


def resample_weights(idx: np.ndarray, n: int) -> np.ndarray:
    """How many times each of ``n`` samples appears in each resample: ``idx`` is (R, m) sample
    indices in ``0 .. n - 1``; the result is int64, shape (R, n), each row summing to ``m``."""
    rows = len(idx)
    flat = (idx + (np.arange(rows, dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=rows * n).reshape(rows, n)


@dataclass(frozen=True)
class LatencySamples:
    """One run's requests in one window, grouped by second (``seconds``, see
    :meth:`harness.compare.latencies.RunLatencies.seconds`), whose statistic is their ``pct``
    percentile (ms): :func:`harness.analysis.percentile.percentile_ms` over every request of the
    (resampled) seconds, computed for all resamples at once by
    :meth:`~harness.analysis.percentile.GroupedDurations.percentiles_ms`."""

    seconds: GroupedDurations
    pct: float

    @property
    def n(self) -> int:
        """Number of seconds (the bootstrap's samples)."""
        return self.seconds.groups

    @property
    def requests(self) -> int:
        """Number of latencies (NaN left out)."""
        return int(self.seconds.sizes.sum())

    def statistic(self, idx: np.ndarray | None = None) -> np.ndarray | float:
        """The percentile of every request of the window (NaN without any), or of each resample
        (rows of ``idx``, (R, m) second indices): float64, shape (R,)."""
        if idx is None:
            value = percentile_ms(self.seconds.sorted_ms, self.pct)
            return math.nan if value is None else value
        return self.seconds.percentiles_ms(resample_weights(idx, self.n), [self.pct])[:, 0]


@dataclass(frozen=True)
class Interval:
    """The bootstrap result: statistic before and after, ``low``/``high`` bounds of the
    difference's interval, the bootstrap ``p``, sample sizes, block length, and ``significant``
    (None without enough samples)."""

    before: float | None
    after: float | None
    low: float | None
    high: float | None
    p: float | None
    n_before: int
    n_after: int
    block: int
    significant: bool | None


def block_length(n: int) -> int:
    """Moving-block length for ``n`` samples: ``ceil(n ** (1/3))``, at least 1."""
    return max(1, math.ceil(n ** (1 / 3))) if n > 0 else 1


def block_indices(n: int, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """``resamples`` rows of ``n`` indices, each row a concatenation of random blocks of
    consecutive indices (moving-block bootstrap)."""
    block = block_length(n)
    blocks = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(resamples, blocks))
    idx = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, blocks * block)
    return idx[:, :n]


def seed_for(*names: str) -> int:
    """A stable seed from names (the same comparison always gives the same intervals)."""
    return zlib.crc32("\x1f".join(names).encode("utf-8"))


def bootstrap_difference(before: Samples | LatencySamples, after: Samples | LatencySamples, seed: int,
                         resamples: int = RESAMPLES,
                         confidence: float = CONFIDENCE) -> Interval:
    """The bootstrap interval of ``statistic(after) - statistic(before)`` (see the module
    docstring); ``before`` and ``after`` are the same kind of samples. Resamples whose statistic
    is NaN (a resample without requests) are left out; with fewer than half of them left, there
    is no verdict."""
    b_stat = before.statistic() if before.n else None
    a_stat = after.statistic() if after.n else None
    clean = lambda v: None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)  # noqa: E731
    if before.n < MIN_SAMPLES or after.n < MIN_SAMPLES:
        return Interval(clean(b_stat), clean(a_stat), None, None, None, before.n, after.n,
                        block_length(max(before.n, after.n)), None)
    rng = np.random.default_rng(seed)
    db = before.statistic(block_indices(before.n, resamples, rng))
    da = after.statistic(block_indices(after.n, resamples, rng))
    diffs = np.asarray(da) - np.asarray(db)
    diffs = diffs[~np.isnan(diffs)]
    if len(diffs) < resamples // 2:
        return Interval(clean(b_stat), clean(a_stat), None, None, None, before.n, after.n,
                        block_length(max(before.n, after.n)), None)
    alpha = (1 - confidence) / 2
    low, high = (float(v) for v in np.quantile(diffs, [alpha, 1 - alpha]))
    p = float(min(1.0, 2 * min((diffs <= 0).mean(), (diffs >= 0).mean())))
    return Interval(clean(b_stat), clean(a_stat), low, high, p, before.n, after.n,
                    block_length(max(before.n, after.n)), bool(low > 0 or high < 0))

