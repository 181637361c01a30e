"""The steady-state hypothesis: what "normal" means for this run, and a judge of any stretch of it.

The scenario may state it (``steady_state:`` thresholds, e.g. ``error_rate < 0.01``,
``p95_ms < 300``). Without one, it is derived from the baseline (the rule of thumb most game-day
runbooks use: "twice as bad as normal is not normal"):

- error rate at most max(2 %, 2 x the baseline's);
- p95 at most max(2 x the baseline's, the baseline's + 100 ms);
- throughput at least half the baseline's RPS (a closed-model load slows down when the
  target does, so a collapse in RPS is itself a symptom).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.analysis.metrics import WindowMetrics
from harness.checks.threshold import COMPARE

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
    if metric.startswith("p") and metric.endswith("_ms"):
        digits = metric[1:-3]
        pct = float(digits) / (10 ** (len(digits) - 2)) if len(digits) > 2 else float(digits)
        return float(np.percentile(durations, pct))
    return None


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
    degraded = np.zeros(len(steps), dtype=bool)
    for i, t in enumerate(steps):
        span_end = min(t + SPAN_S, end_s)
        lo, hi = np.searchsorted(offsets, [t, span_end])
        span = max(span_end - t, STEP_S)
        if hi == lo:
            degraded[i] = True
            continue
        for limit in limits:
            value = _value(limit.metric, durations[lo:hi], errors[lo:hi], span)
            if value is not None and not COMPARE[limit.operator](value, limit.value):
                degraded[i] = True
                break
    return steps, degraded
