"""Abort conditions, evaluated live on the load's per-second counters.

A condition such as ``error_rate > 0.5 for 10 s`` trips when it holds in each of the last
``for_s`` complete seconds of the load (seconds with no request count as error rate 0 and
RPS 0). The orchestrator then reverts every fault and ends the run ``aborted`` (exit 4).
"""

from __future__ import annotations

from harness.scenario.checks.threshold import COMPARE
from harness.scenario.models import AbortCondition


def second_value(metric: str, requests: int, errors: int) -> float:
    """``error_rate`` or ``rps`` of one second with ``requests`` and ``errors``."""
    if metric == "rps":
        return float(requests)
    return errors / requests if requests else 0.0


def tripped(conditions: list[AbortCondition], per_second: dict[int, list[int]], now_s: float,
            t0: float) -> AbortCondition | None:
    """The first condition that held in each of its last ``for_s`` complete seconds, or None.

    Args:
        per_second: epoch second -> ``[requests, errors]`` (the load driver's live counters).
        now_s: current epoch time; t0: load start (seconds before it are not judged).
    """
    last_complete = int(now_s) - 1
    for cond in conditions:
        first = last_complete - cond.for_s + 1
        if first < t0:
            continue
        if all(
            COMPARE[cond.operator](second_value(cond.metric, *per_second.get(sec, [0, 0])), cond.value)
            for sec in range(first, last_complete + 1)
        ):
            return cond
    return None
