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

from dataclasses import dataclass

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
    limit (the per-step comparison then decides).

    Args:
        offsets: request start offsets (s), sorted ascending; ``durations`` (ms) and
            ``errors`` (flags) aligned with them.
        steps: step start offsets (s); ``end_s``: the load's end (s); ``limits``: the steady
            state.

    Returns:
        bool array, shape ``steps.shape``: True where the step broke a limit or had no request.
    """
    degraded = np.zeros(len(steps), dtype=bool)
    if not len(steps):
        return degraded
    span_ends = np.minimum(steps + SPAN_S, end_s)
    los = np.searchsorted(offsets, steps)
    his = np.searchsorted(offsets, span_ends)
    spans = np.maximum(span_ends - steps, STEP_S)
    n = his - los
    degraded |= n == 0
    base = int(los.min())
    top = int(his.max())

    def prefix(flags: np.ndarray) -> np.ndarray:
        out = np.zeros(len(flags) + 1, dtype=np.int64)
        np.cumsum(flags, out=out[1:])
        return out

    err_prefix: np.ndarray | None = None
    window: np.ndarray | None = None  # the durations the steps span
    counted: np.ndarray | None = None  # per step: how many of its durations are not NaN
    for limit in limits:
        todo = np.flatnonzero(~degraded)
        if not len(todo):
            break
        compare = COMPARE[limit.operator]
        metric = limit.metric
        k = n[todo]
        vector_errors = errors.dtype == np.bool_
        if metric in ("rps", "requests") or (metric in ("error_rate", "success_rate") and vector_errors):
            if metric == "rps":
                values = k / spans[todo]
            elif metric == "requests":
                values = k.astype(np.float64)
            else:
                if err_prefix is None:
                    err_prefix = prefix(np.asarray(errors[base:top], dtype=bool))
                rate = (err_prefix[his[todo] - base] - err_prefix[los[todo] - base]).astype(np.float64) / k
                values = rate if metric == "error_rate" else 1 - rate
            bad = ~np.asarray([compare(float(v), limit.value) for v in values.tolist()], dtype=bool)
            degraded[todo[bad]] = True
            continue
        pct = metric_percent(metric)
        if pct is not None and not math.isnan(limit.value):
            lo_t, hi_t = los - base, his - base
            if window is None or counted is None:
                window = np.asarray(durations[base:top], dtype=np.float64)
                numbers = prefix(~np.isnan(window))
                counted = numbers[hi_t] - numbers[lo_t]
            at_or_below = prefix(window <= limit.value)
            below = prefix(window < limit.value)
            valid = todo[counted[todo] > 0]  # a step of NaN durations only has no percentile: no verdict
            holds = _percentile_holds(limit.operator, at_or_below[hi_t[valid]] - at_or_below[lo_t[valid]],
                                      below[hi_t[valid]] - below[lo_t[valid]], nearest_ranks(counted[valid], pct))
            degraded[valid[~holds]] = True
            continue
        for i in todo.tolist():
            value = _value(metric, durations[los[i]:his[i]], errors[los[i]:his[i]], float(spans[i]))
            if value is not None and not compare(value, limit.value):
                degraded[i] = True
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
