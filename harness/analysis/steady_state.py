"""The steady-state hypothesis: what "normal" means for this run, and a judge of any stretch of it.

The scenario may state it (``steady_state:`` thresholds, e.g. ``error_rate < 0.01``,
``p95_ms < 300``). Without one, it is derived from the baseline (the rule of thumb most game-day
runbooks use: "twice as bad as normal is not normal"):

- error rate at most max(2 %, 2 x the baseline's);
- p95 at most max(2 x the baseline's, the baseline's + 100 ms);
- throughput at least half the baseline's RPS (a closed-model load slows down when the
  target does, so a collapse in RPS is itself a symptom).

A step's latency percentile (``p95_ms`` and every ``pNN_ms``) is the one percentile of the
harness, :func:`harness.analysis.percentile.percentile_ms`: the exact nearest-rank value of the
requests that started in the step's second (NaN durations left out), the same definition as the
windows' metrics and the per-second series.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import math

import numpy as np

from harness.analysis.metrics import WindowMetrics
from harness.analysis.percentile import metric_percent, nearest_ranks, percentile_ms
from harness.scenario.checks.threshold import COMPARE

STEP_S = 0.1
"""Time resolution of detection and recovery: 100 ms."""
SPAN_S = 1.0
"""Each step judges the requests that started in the next second."""


@dataclass(frozen=True)
class Limit:
    """One condition of the steady state: ``metric`` ``operator`` ``value``."""

    metric: str
    operator: str
    value: float

    def __str__(self) -> str:
        return f"{self.metric} {self.operator} {self.value:g}"


def derived_limits(baseline: WindowMetrics) -> list[Limit]:
    """The default steady state from the baseline's metrics (see the module docstring)."""
    limits = [Limit("error_rate", "<=", max(0.02, 2 * baseline.error_rate))]
    if baseline.p95_ms is not None:
        limits.append(Limit("p95_ms", "<=", max(2 * baseline.p95_ms, baseline.p95_ms + 100)))
    if baseline.rps > 0:
        limits.append(Limit("rps", ">=", baseline.rps / 2))
    return limits


def _value(metric: str, durations: np.ndarray, errors: np.ndarray, span_s: float) -> float | None:
    """One step's value of ``metric`` from its requests' ``durations`` (ms) and ``errors``
    (flags) over ``span_s`` seconds; None when it has no value (no requests, an unknown metric,
    a percentile without a non-NaN duration)."""
    n = len(durations)
    if metric in ("rps", "requests"):
        return n / span_s if metric == "rps" else float(n)
    if n == 0:
        return None
    if metric == "error_rate":
        return float(errors.mean())
    if metric == "success_rate":
        return 1 - float(errors.mean())
    if metric == "max_ms":
        return float(durations.max())
    if metric == "mean_ms":
        return float(durations.mean())
    pct = metric_percent(metric)
    if pct is not None:
        return percentile_ms(durations, pct)
    return None


def _percentile_holds(operator: str, at_or_below: np.ndarray, below: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Whether ``x[r] <operator> v`` for the ``r``-th smallest duration ``x[r]`` (``ranks``), from
    the counts of durations ``<= v`` (``at_or_below``) and ``< v`` (``below``): exact, since
    ``x[r] <= v`` exactly when at least ``r`` durations are ``<= v`` (and likewise for ``<``)."""
    if operator == "<":
        return below >= ranks
    if operator == "<=":
        return at_or_below >= ranks
    if operator == ">":
        return at_or_below < ranks
    return below < ranks  # >=


Comparison = Callable[[float, float], bool]
"""A comparison ``(value, limit) -> bool``."""


def _holds(operator: str) -> Comparison:
    """The comparison ``value <operator> limit`` for one of ``<``, ``<=``, ``>``, ``>=``: the
    operator table the threshold check states (the one thing this module takes from the checks'
    specs). Raises KeyError on another operator."""
    return COMPARE[operator]


def _prefix(flags: np.ndarray) -> np.ndarray:
    """Running counts of ``flags`` with a leading 0 (int64, ``len(flags) + 1`` long): the flags
    set among ``flags[a:b]`` number ``out[b] - out[a]``."""
    out = np.zeros(len(flags) + 1, dtype=np.int64)
    np.cumsum(flags, out=out[1:])
    return out


class _Spans:
    """The requests each step judges (see :func:`judge_steps`): step ``i`` covers the records
    ``los[i]:his[i]`` (those that started in ``[step, min(step + SPAN_S, end_s))``), ``n[i]`` of
    them over ``spans_s[i]`` seconds (at least ``STEP_S``). The running counts over the records
    the steps cover (``base:top``) are made when a limit first needs them, then kept for the
    next limits. ``steps`` must not be empty."""

    def __init__(self, offsets: np.ndarray, durations: np.ndarray, errors: np.ndarray, steps: np.ndarray,
                 end_s: float) -> None:
        span_ends = np.minimum(steps + SPAN_S, end_s)
        self.durations = durations
        self.errors = errors
        self.los = np.searchsorted(offsets, steps)
        self.his = np.searchsorted(offsets, span_ends)
        self.spans_s = np.maximum(span_ends - steps, STEP_S)
        self.n = self.his - self.los
        self.base = int(self.los.min())
        self.top = int(self.his.max())

    def total(self, running: np.ndarray, todo: np.ndarray) -> np.ndarray:
        """Per step of ``todo`` (indices), the flags set among its records, from ``running``
        (the :func:`_prefix` of flags over the records ``base:top``)."""
        return running[self.his[todo] - self.base] - running[self.los[todo] - self.base]

    @cached_property
    def failures(self) -> np.ndarray:
        """Running count of the failed records (``errors`` read as bool)."""
        return _prefix(np.asarray(self.errors[self.base:self.top], dtype=bool))

    @cached_property
    def window_ms(self) -> np.ndarray:
        """The durations (ms, float64) of the records the steps cover."""
        return np.asarray(self.durations[self.base:self.top], dtype=np.float64)

    @cached_property
    def counted(self) -> np.ndarray:
        """Per step (all of them), how many of its durations are not NaN."""
        return self.total(_prefix(~np.isnan(self.window_ms)), np.arange(len(self.n)))

    def value(self, metric: str, i: int) -> float | None:
        """Step ``i``'s value of ``metric`` by :func:`_value` (None when it has none)."""
        lo, hi = self.los[i], self.his[i]
        return _value(metric, self.durations[lo:hi], self.errors[lo:hi], float(self.spans_s[i]))


def _counted_values(spans: _Spans, metric: str, todo: np.ndarray) -> np.ndarray:
    """Per step of ``todo``, ``rps``, ``requests``, ``error_rate`` or ``success_rate`` from
    counts (the same IEEE divisions as :func:`_value`); the rates need bool ``errors``."""
    k = spans.n[todo]
    if metric == "rps":
        return k / spans.spans_s[todo]
    if metric == "requests":
        return k.astype(np.float64)
    rate = spans.total(spans.failures, todo).astype(np.float64) / k
    return rate if metric == "error_rate" else 1 - rate


def _broken_by_count(spans: _Spans, limit: Limit, holds: Comparison, todo: np.ndarray) -> np.ndarray:
    """The steps of ``todo`` whose counted value (:func:`_counted_values`) breaks ``limit``
    (``holds``: its operator's comparison)."""
    values = _counted_values(spans, limit.metric, todo)
    bad = ~np.asarray([holds(float(v), limit.value) for v in values.tolist()], dtype=bool)
    return todo[bad]


def _broken_by_percentile(spans: _Spans, limit: Limit, pct: float, todo: np.ndarray) -> np.ndarray:
    """The steps of ``todo`` whose ``pct`` percentile breaks ``limit`` (a number, not NaN),
    decided by counting the durations ``<=`` and ``<`` the limit (see :func:`judge_steps`). A
    step whose durations are all NaN has no percentile, hence no verdict."""
    at_or_below = _prefix(spans.window_ms <= limit.value)
    below = _prefix(spans.window_ms < limit.value)
    valid = todo[spans.counted[todo] > 0]
    holds = _percentile_holds(limit.operator, spans.total(at_or_below, valid), spans.total(below, valid),
                              nearest_ranks(spans.counted[valid], pct))
    return valid[~holds]


def _broken_one_by_one(spans: _Spans, limit: Limit, holds: Comparison, todo: np.ndarray) -> np.ndarray:
    """The steps of ``todo`` whose :func:`_value` breaks ``limit`` (``holds``: its operator's
    comparison), one step at a time; a step without a value breaks nothing."""
    broken = []
    for i in todo.tolist():
        value = spans.value(limit.metric, i)
        if value is not None and not holds(value, limit.value):
            broken.append(i)
    return np.asarray(broken, dtype=np.intp)


def _broken(spans: _Spans, limit: Limit, todo: np.ndarray) -> np.ndarray:
    """The steps of ``todo`` (indices) that break ``limit``: by counts when the metric allows
    it, by counting durations for a percentile, else one step at a time. Raises KeyError on
    an unknown operator."""
    holds = _holds(limit.operator)
    metric = limit.metric
    if metric in ("rps", "requests") or (metric in ("error_rate", "success_rate") and spans.errors.dtype == np.bool_):
        return _broken_by_count(spans, limit, holds, todo)
    pct = metric_percent(metric)
    if pct is not None and not math.isnan(limit.value):
        return _broken_by_percentile(spans, limit, pct, todo)
    return _broken_one_by_one(spans, limit, holds, todo)


def judge_steps(offsets: np.ndarray, durations: np.ndarray, errors: np.ndarray, steps: np.ndarray, end_s: float,
                 limits: list[Limit]) -> np.ndarray:
    """Whether each step (start offsets ``steps``, see :func:`degraded_steps`) broke a limit.

    Vectorised, with the verdict of every step exactly the per-step ``_value`` comparison:
    counts, rates and RPS come from cumulative sums (the same IEEE divisions); a percentile
    limit ``v`` is decided by counting, per step, the durations ``<= v`` and ``< v``: the
    nearest-rank percentile is the ``r``-th smallest duration, ``r = ceil(q * k)`` for the
    step's ``k`` non-NaN durations (:func:`harness.analysis.percentile.nearest_ranks`, the rank
    :func:`~harness.analysis.percentile.percentile_ms` uses), and ``x[r] <= v`` exactly when at
    least ``r`` durations are ``<= v``. No step needs the percentile itself, except with a NaN
    limit (the per-step comparison then decides). A step already degraded is not judged again.

    Args:
        offsets: request start offsets (s), sorted ascending; ``durations`` (ms) and
            ``errors`` (flags) aligned with them.
        steps: step start offsets (s); ``end_s``: the load's end (s); ``limits``: the steady
            state.

    Returns:
        bool array, shape ``steps.shape``: True where the step broke a limit or had no request.

    Raises:
        KeyError: a limit's operator is not one of ``<``, ``<=``, ``>``, ``>=``.
    """
    degraded = np.zeros(len(steps), dtype=bool)
    if not len(steps):
        return degraded
    spans = _Spans(offsets, durations, errors, steps, end_s)
    degraded |= spans.n == 0
    for limit in limits:
        todo = np.flatnonzero(~degraded)
        if not len(todo):
            break
        degraded[_broken(spans, limit, todo)] = True
    return degraded


def degraded_steps(offsets: np.ndarray, durations: np.ndarray, errors: np.ndarray, start_s: float, end_s: float,
                   limits: list[Limit]) -> tuple[np.ndarray, np.ndarray]:
    """Judge every 100 ms step in ``[start_s, end_s)``.

    Args:
        offsets: request start offsets (s), sorted ascending; ``durations`` (ms) and
            ``errors`` (bool) aligned with them.
        limits: the steady state.

    Returns:
        ``(steps_s, degraded)``: step start offsets and whether the requests that started in
        ``[step, step + 1 s)`` broke any limit. A second with no requests at all is degraded
        (nothing got through). The last steps use a shorter span if the load ends sooner.
    """
    steps = np.arange(start_s, end_s, STEP_S)
    return steps, judge_steps(offsets, durations, errors, steps, end_s, limits)
