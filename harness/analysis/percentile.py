"""THE latency percentile of harness: exact nearest rank over the recorded latencies.

Definition. For ``n`` recorded latencies and a percentile ``p`` in [0, 100], the pth percentile
is the smallest recorded value ``v`` such that at least ``ceil(p/100 * n)`` of the values are
<= ``v`` (and at least one: p0 is the minimum). Equivalently, with the values sorted ascending
``x[1] <= ... <= x[n]``, it is ``x[r]`` for the rank ``r = max(1, ceil(p/100 * n))``: the
nearest-rank method, numpy's ``method="inverted_cdf"``. Examples: [1..100] -> p50 = 50,
p99 = 99, p100 = 100; [1, 2, 3, 4] -> p50 = 2; one value -> every percentile is that value.

Why this one:

- it is always an observed latency (a request really took that long) and never exceeds the
  max (p100 *is* the max), where linear interpolation (``np.percentile``'s default, pandas'
  ``quantile``) invents values between two requests;
- at least p % of the requests took at most that long (a p99 of 250 ms means 99 % of requests
  took <= 250 ms, exactly), which is the sentence a latency SLO states;
- it is what HdrHistogram reports (the value at a target count), without bucket rounding:
  HdrHistogram reports the highest value of the bucket (up to 0.1 % above the value at 3
  significant digits) and rounds its target count to nearest (``int(p/100 * n + 0.5)``); here
  the rank is the ceiling and the value is the recorded one.

The rank is computed exactly: ``p`` is read as the decimal its ``repr`` shows (``99.9`` is
999/1000, not the binary float slightly above it), and ``ceil(p/100 * n)`` is integer
arithmetic. numpy's ``inverted_cdf`` computes it in floating point and lands one rank too high
when ``p/100 * n`` is a whole number that floating point misses: p99.9 of [1..1000] is 999
here and 1000 for ``np.percentile(..., method="inverted_cdf")``.

Inputs and edge cases (every function here):

- latencies are milliseconds (any unit works: the result is one of the values, unchanged);
  any array-like of numbers, of any shape (flattened), pandas Series included (``pd.NA`` is
  read as NaN);
- NaN is not a latency: NaN values are dropped before ranking, and ``n`` counts the others;
  no values (or only NaN) gives ``None``;
- +inf and -inf are ordered values like any other (+inf sorts last: a p100 over a record of
  an infinite duration is inf);
- ``pct`` must be a real number in [0, 100]; anything else raises :class:`ValueError`.

A percentile is only *meaningful* when at least one value lies above it: ``n >= 1/(1 - q)``
for ``q = p/100`` (100 requests for a p99, 1000 for a p99.9). Below that, the pNN is the max
of the sample. :func:`min_samples_for` gives that ``n``; the compare's significance verdict
uses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

DIRECT_SEGMENT = 256
"""Segment length below which :meth:`GroupedDurations.percentiles_ms` ranks element by element."""
BLOCKS = 256
"""Blocks per segment in each narrowing step of :meth:`GroupedDurations.percentiles_ms`."""


@lru_cache(maxsize=256)
def _fraction(pct: float) -> Fraction:
    """``pct / 100`` as an exact fraction of the decimal ``repr(pct)`` shows.

    Raises:
        ValueError: ``pct`` is not a real number in [0, 100].
    """
    if isinstance(pct, bool) or not isinstance(pct, (int, float)) or not 0 <= pct <= 100:
        raise ValueError(f"a percentile must be a number in [0, 100], not {pct!r}")
    return Fraction(repr(float(pct))) / 100


def quantile_of(pct: float) -> Fraction:
    """``pct / 100`` as an exact :class:`~fractions.Fraction` (``99.9`` -> 999/1000).

    Raises:
        ValueError: ``pct`` is not a real number in [0, 100] (NaN, a string, 101...).
    """
    if isinstance(pct, np.generic):
        pct = pct.item()
    return _fraction(pct)


def nearest_rank(n: int, pct: float) -> int:
    """The 1-based rank of the ``pct`` percentile among ``n`` sorted values:
    ``max(1, ceil(pct/100 * n))``, in exact arithmetic (see the module docstring).

    Raises:
        ValueError: ``n < 1``, or ``pct`` outside [0, 100].
    """
    if n < 1:
        raise ValueError(f"no rank among {n} values")
    q = quantile_of(pct)
    return max(1, -((-q.numerator * int(n)) // q.denominator))


def nearest_ranks(counts: np.ndarray, pct: float) -> np.ndarray:
    """:func:`nearest_rank` of every count (int array, any shape, each >= 1): an int64 array of
    the same shape. Integer numpy arithmetic when it cannot overflow, else one exact Python
    computation per distinct count.

    Raises:
        ValueError: a count below 1, or ``pct`` outside [0, 100].
    """
    counts = np.asarray(counts, dtype=np.int64)
    q = quantile_of(pct)
    if counts.size == 0:
        return counts.copy()
    if int(counts.min()) < 1:
        raise ValueError("no rank among 0 values")
    if q.numerator * int(counts.max()) < 2**62 and q.denominator < 2**62:
        return np.maximum(1, -((-q.numerator * counts) // q.denominator))
    distinct, inverse = np.unique(counts, return_inverse=True)
    ranks = np.array([nearest_rank(int(c), pct) for c in distinct.tolist()], dtype=np.int64)
    return ranks[inverse].reshape(counts.shape)


def metric_percent(metric: str) -> float | None:
    """The percentile a ``pNN_ms`` window metric names (``p50_ms`` -> 50, ``p999_ms`` -> 99.9),
    or None for any other metric (``max_ms``, ``error_rate``...)."""
    digits = metric[1:-3] if metric.startswith("p") and metric.endswith("_ms") else ""
    if not digits.isdigit():
        return None
    return float(digits) / (10 ** (len(digits) - 2)) if len(digits) > 2 else float(digits)


def min_samples_for(pct: float) -> int:
    """The fewest values for which a ``pct`` percentile says more than "the max":
    ``ceil(1 / (1 - q))`` with ``q = pct/100`` (so that at least one value lies above it), exact:
    p50 -> 2, p90 -> 10, p95 -> 20, p99 -> 100, p99.9 -> 1000. p100 is the max of any sample: 1.

    Raises:
        ValueError: ``pct`` outside [0, 100].
    """
    q = quantile_of(pct)
    if q == 1:
        return 1
    return math.ceil(1 / (1 - q))


def durations_array(durations_ms: Any) -> np.ndarray:
    """``durations_ms`` as a flat float64 array without NaN (``pd.NA`` counts as NaN). The input
    array itself (no copy) when it is already a flat float64 array without NaN.

    Raises:
        ValueError, TypeError: values that are not numbers.
    """
    if hasattr(durations_ms, "to_numpy"):  # pandas: nullable dtypes need na_value
        values = durations_ms.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = np.asarray(durations_ms, dtype=np.float64)
    values = values.reshape(-1)
    nan = np.isnan(values)
    return values[~nan] if nan.any() else values


def percentiles_ms(durations_ms: np.ndarray | Sequence[float], pcts: Sequence[float]) -> list[float | None]:
    """The percentiles ``pcts`` of ``durations_ms`` (see the module docstring for the
    definition), in one pass (a single ``np.partition``).

    Args:
        durations_ms: latencies in ms, any array-like of numbers (flattened); NaN dropped.
        pcts: percentiles in [0, 100] (e.g. ``(50, 99, 99.9)``).

    Returns:
        One float per entry of ``pcts``, each a value of ``durations_ms``; all ``None`` when
        there is no (non-NaN) value.

    Raises:
        ValueError: a percentile outside [0, 100]; values that are not numbers.
    """
    pcts = list(pcts)
    for p in pcts:
        quantile_of(p)
    values = durations_array(durations_ms)
    n = len(values)
    if n == 0:
        return [None] * len(pcts)
    positions = [nearest_rank(n, p) - 1 for p in pcts]
    if not positions:
        return []
    partitioned = np.partition(values, sorted(set(positions)))
    return [float(partitioned[i]) for i in positions]


def percentile_ms(durations_ms: np.ndarray | Sequence[float], pct: float) -> float | None:
    """The ``pct`` percentile of ``durations_ms``: the smallest recorded value ``v`` with at
    least ``ceil(pct/100 * n)`` values <= ``v`` (nearest rank; see the module docstring).

    Args:
        durations_ms: latencies in ms, any array-like of numbers (flattened); NaN dropped.
        pct: the percentile, in [0, 100] (99 for p99, 99.9 for p99.9).

    Returns:
        One of the values (so never above the max), or ``None`` without (non-NaN) values.

    Raises:
        ValueError: ``pct`` outside [0, 100]; values that are not numbers.
    """
    return percentiles_ms(durations_ms, [pct])[0]


class GroupedDurations:
    """Latencies in groups (a window's requests, one group per second), to compute the exact
    percentile of any *weighted union* of the groups fast: what a block bootstrap needs, where a
    resample repeats some seconds and leaves others out.

    ``percentiles_ms(weights, pcts)[r, j]`` is exactly ``percentile_ms(np.concatenate([g] *
    weights[r, s] for every group s), pcts[j])``, without building those arrays: the values are
    sorted once, and the rank is found by narrowing a segment of the sorted values by counts of
    each group's values per block (a matrix product with the weights).

    Args:
        groups: ``S`` array-likes of latencies (ms); NaN dropped, as by :func:`percentile_ms`.
    """

    def __init__(self, groups: Sequence[np.ndarray | Sequence[float]]):
        arrays = [durations_array(g) for g in groups]
        sizes = np.array([len(a) for a in arrays], dtype=np.int64)
        values = np.concatenate(arrays) if arrays else np.zeros(0)
        labels = np.repeat(np.arange(len(arrays), dtype=np.int64), sizes)
        order = np.argsort(values)  # ties in any order: equal values give the same percentile
        self._set(values[order], labels[order], sizes)

    def _set(self, sorted_ms: np.ndarray, labels: np.ndarray, sizes: np.ndarray) -> None:
        self.sorted_ms = sorted_ms
        """Every value, ascending: float64, shape (n,)."""
        self.labels = labels
        """The group of each sorted value: int64, shape (n,)."""
        self.sizes = sizes
        """Values per group (after dropping NaN): int64, shape (S,)."""
        self._counts: dict[tuple[int, int], tuple[int, np.ndarray]] = {}

    @classmethod
    def from_sorted(cls, sorted_ms: np.ndarray, labels: np.ndarray, groups: int) -> "GroupedDurations":
        """The same object from values already sorted ascending (float64, shape (n,), no NaN)
        and the group of each (ints in ``0 .. groups - 1``, shape (n,)), without sorting again.

        Raises:
            ValueError: misaligned arrays, labels out of range, or values not ascending or NaN.
        """
        sorted_ms = np.asarray(sorted_ms, dtype=np.float64)
        labels = np.asarray(labels, dtype=np.int64)
        if sorted_ms.shape != labels.shape or sorted_ms.ndim != 1:
            raise ValueError("sorted_ms and labels must be aligned 1-D arrays")
        if len(labels) and (labels.min() < 0 or labels.max() >= groups):
            raise ValueError(f"labels must be in 0 .. {groups - 1}")
        if np.isnan(sorted_ms).any() or bool(np.any(sorted_ms[1:] < sorted_ms[:-1])):
            raise ValueError("sorted_ms must be ascending, without NaN")
        out = cls.__new__(cls)
        out._set(sorted_ms, labels, np.bincount(labels, minlength=groups).astype(np.int64))
        return out

    @property
    def groups(self) -> int:
        """Number of groups ``S``."""
        return len(self.sizes)

    def _block_counts(self, lo: int, hi: int) -> tuple[int, np.ndarray]:
        """``(step, cumulative)`` for the segment ``[lo, hi)`` of the sorted values: blocks of
        ``step`` values, and ``cumulative[s, j]`` = values of group ``s`` among the first ``j + 1``
        blocks (float64, shape (S, blocks)). The whole range's is cached (every call starts
        there); a narrower segment's is cheap (it is ``BLOCKS`` times shorter) and not kept, so
        memory stays at one (S, BLOCKS) matrix."""
        key = (lo, hi)
        if key in self._counts:
            return self._counts[key]
        length = hi - lo
        step = -(-length // BLOCKS)
        blocks = -(-length // step)
        block = np.arange(length, dtype=np.int64) // step
        counts = np.bincount(self.labels[lo:hi] * blocks + block, minlength=self.groups * blocks)
        out = (step, np.cumsum(counts.reshape(self.groups, blocks), axis=1).astype(np.float64))
        if (lo, hi) == (0, len(self.sorted_ms)):
            self._counts[key] = out
        return out

    def _positions(self, weights: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """For each row ``r``, the index into ``sorted_ms`` of the value at weighted rank
        ``targets[r]`` (1-based, 1 <= target <= the row's weighted count)."""
        out = np.empty(len(targets), dtype=np.int64)
        pending = [(0, len(self.sorted_ms), np.arange(len(targets)), np.zeros(len(targets)))]
        while pending:
            lo, hi, rows, base = pending.pop()
            w, t = weights[rows], targets[rows]
            if hi - lo <= DIRECT_SEGMENT:
                cumulative = base[:, None] + np.cumsum(w[:, self.labels[lo:hi]], axis=1)
                out[rows] = lo + (cumulative >= t[:, None]).argmax(axis=1)
                continue
            step, counts = self._block_counts(lo, hi)
            reached = base[:, None] + w @ counts  # weighted count up to each block's end
            block = (reached >= t[:, None]).argmax(axis=1)
            before = np.where(block > 0, reached[np.arange(len(rows)), np.maximum(block - 1, 0)], base)
            for b in np.unique(block).tolist():
                mine = block == b
                pending.append((lo + b * step, min(hi, lo + (b + 1) * step), rows[mine], before[mine]))
        return out

    def percentiles_ms(self, weights: np.ndarray, pcts: Sequence[float]) -> np.ndarray:
        """The percentiles of weighted unions of the groups.

        Args:
            weights: non-negative integers, shape (R, S): row ``r`` takes group ``s``
                ``weights[r, s]`` times.
            pcts: percentiles in [0, 100].

        Returns:
            float64, shape (R, len(pcts)): ``[r, j]`` is :func:`percentile_ms` of row ``r``'s
            union at ``pcts[j]``; NaN for a row whose union has no value.

        Raises:
            ValueError: ``weights`` not of shape (R, S), negative weights, or a percentile
                outside [0, 100].
        """
        weights = np.asarray(weights)
        if weights.ndim != 2 or weights.shape[1] != self.groups:
            raise ValueError(f"weights must have shape (R, {self.groups}), not {weights.shape}")
        if weights.size and weights.min() < 0:
            raise ValueError("weights must be non-negative")
        w = weights.astype(np.float64)  # exact for counts below 2**53; BLAS for the products
        totals = weights.astype(np.int64) @ self.sizes
        out = np.full((len(weights), len(pcts)), np.nan)
        rows = np.flatnonzero(totals > 0)
        for j, pct in enumerate(pcts):
            quantile_of(pct)
            if len(rows):
                targets = nearest_ranks(totals[rows], pct).astype(np.float64)
                out[rows, j] = self.sorted_ms[self._positions(w[rows], targets)]
        return out
