"""The ``circuit_breaker`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.circuit_breaker`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
class CircuitBreakerCheck(CheckSpec):
    """Parameters:

    - ``fail_fast_ms``: p99 of the window's *failed* requests must stay under it (of all its
      requests when none failed: fallbacks answered, fast);
    - ``close_within_s``: the breaker must be closed again this long after the revert.

    Evidence that a breaker acted, first found of:

    1. ``state_metric`` (a scraped gauge, default ``shop_circuit_breaker_state``, ``open_value``
       when open; ``metric_service`` narrows it to one service): it reached ``open_value`` in
       the window and was back at ``closed_value`` within ``close_within_s`` of the revert.
       Scraped services that export no such gauge have no breaker: failed;
    2. otherwise, for a fault on a proxy that still carries calls (not ``down``, under which
       nothing crosses it anyway), the calls themselves: the traffic through the proxy fell to
       :data:`harness.checks.circuit_breaker.CALLS_STOPPED_SHARE` of the baseline's in the window's second half, and came back
       to :data:`harness.checks.circuit_breaker.CALLS_RESUMED_SHARE` within ``close_within_s`` of the revert;
    3. neither could be read: inconclusive (fast failures alone do not show a breaker: a
       timeout gives them too).
    """

    summary = "The circuit breaker opens during an outage (failures are fast) and closes after it."
    fault_windows_only = True

    check: Literal["circuit_breaker"] = "circuit_breaker"
    fail_fast_ms: float = Field(gt=0, le=3_600_000, description="p99 bound on failures, ms")
    close_within_s: float = Field(default=15, gt=0, le=3600, description="seconds after revert")
    state_metric: str = "shop_circuit_breaker_state"
    metric_service: str | None = Field(default=None, min_length=1,
                                       description="the service exporting state_metric (default: any scraped one)")
    open_value: float = 1
    closed_value: float = 0

    def default_label(self) -> str:
        return f"circuit breaker fails fast (< {self.fail_fast_ms:g} ms) in {self.window}"
