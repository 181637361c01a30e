"""Per-fault figures: time to detect, time to recover, failed requests, availability.

- **time to detect**: from the inject to the first degraded step (a step is 100 ms; it is
  degraded when the requests that started in the second from it break the steady state, see
  :mod:`harness.analysis.steady_state`); None when the fault never showed.
- **time to recover**: from the revert until ``recovered_after_s`` consecutive seconds are back
  within the steady state (0 when nothing was degraded at the revert); None when that did not
  happen before the load ended.
- **failed requests** and **availability** (100 x success rate) in the fault window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harness.analysis.metrics import failed_flags
from harness.analysis.steady_state import STEP_S, Limit, judge_steps, degraded_steps
from harness.analysis.windows import Window

RECOVERY_CHUNK_STEPS = 100
"""Steps judged at a time while looking for the recovery (it usually comes early)."""


@dataclass(frozen=True)
class FaultSummary:
    """One fault occurrence's figures (times in seconds, availability in percent)."""

    fault: str
    window: str
    inject_s: float
    revert_s: float
    requests: int
    failed_requests: int
    availability_pct: float | None
    time_to_detect_s: float | None
    time_to_recover_s: float | None
    degraded_s: float


def summarize_fault(window: Window, records: pd.DataFrame, load_end_s: float, limits: list[Limit],
                    recovered_after_s: float, failed: np.ndarray | None = None) -> FaultSummary:
    """Figures of one fault window; ``records`` carry ``offset_s`` and are sorted by it.
    ``failed``: :func:`~harness.analysis.metrics.failed_flags` of their ``error`` column when
    the caller has them (the report builder's :class:`~harness.analysis.metrics.RowFacts`),
    so that they are not computed again for each fault."""
    offsets = records["offset_s"].to_numpy()
    # Nothing before the inject (or the revert) is looked at: every step starts at or after one
    # of them. Leave those records out, so that a long run is not scanned once per fault.
    first = int(np.searchsorted(offsets, min(window.start_s, window.end_s)))
    offsets = offsets[first:]
    durations = records["duration_ms"].to_numpy()[first:]
    errors = failed[first:] if failed is not None else failed_flags(records["error"].iloc[first:])
    lo, hi = np.searchsorted(offsets, [window.start_s, window.end_s])
    n = int(hi - lo)
    failed = int(errors[lo:hi].sum())
    steps, bad = degraded_steps(offsets, durations, errors, window.start_s, window.end_s, limits)
    detect = float(round(steps[bad.argmax()] - window.start_s, 3)) if bad.any() else None
    recover = _time_to_recover(offsets, durations, errors, window.end_s, load_end_s, limits, recovered_after_s)
    return FaultSummary(
        fault=window.fault or window.name,
        window=window.name,
        inject_s=window.start_s,
        revert_s=window.end_s,
        requests=n,
        failed_requests=failed,
        availability_pct=round(100 * (1 - failed / n), 3) if n else None,
        time_to_detect_s=detect,
        time_to_recover_s=recover,
        degraded_s=round(float(bad.sum()) * STEP_S, 3),
    )


def _time_to_recover(offsets, durations, errors, revert_s: float, load_end_s: float, limits: list[Limit],
                     recovered_after_s: float) -> float | None:
    # The steps of degraded_steps(revert_s, load_end_s), judged a chunk at a time: the search
    # stops at the first run of good steps instead of judging the rest of the load.
    steps = np.arange(revert_s, load_end_s, STEP_S)
    need = max(1, int(round(recovered_after_s / STEP_S)))
    run = 0
    for first in range(0, len(steps), RECOVERY_CHUNK_STEPS):
        bad = judge_steps(offsets, durations, errors, steps[first:first + RECOVERY_CHUNK_STEPS], load_end_s, limits)
        for j, is_bad in enumerate(bad.tolist()):
            run = 0 if is_bad else run + 1
            if run >= need:
                i = first + j
                return float(round(steps[i - need + 1] - revert_s, 3))
    return None
