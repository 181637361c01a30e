"""``circuit_breaker``: during a dependency outage, failures fail fast, the breaker opens (calls
to the dependency stop), and it closes again soon after recovery (seed 002 "3. No Circuit
Breakers"; seed 001 "Will it spread?")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import failures, gauge_series, percentile_ms
from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class CircuitBreakerCheck(CheckSpec):
    """Parameters:

    - ``fail_fast_ms``: p99 of the window's *failed* requests must stay under it (all requests
      when none failed, e.g. because a fallback answered);
    - ``state_metric`` (scraped gauge, default ``shop_circuit_breaker_state``, 1 = open): when
      scraped, it must reach ``open_value`` during the window, and be back at ``closed_value``
      within ``close_within_s`` of the revert.
    """

    summary = "The circuit breaker opens during an outage (failures are fast) and closes after it."

    check: Literal["circuit_breaker"] = "circuit_breaker"
    fail_fast_ms: float = Field(gt=0, le=3_600_000, description="p99 bound on failures, ms")
    close_within_s: float = Field(default=15, gt=0, le=3600, description="seconds after revert")
    state_metric: str = "shop_circuit_breaker_state"
    open_value: float = 1
    closed_value: float = 0

    def default_label(self) -> str:
        return f"circuit breaker fails fast (< {self.fail_fast_ms:g} ms) in {self.window}"

    def windows(self, evidence):
        return [w for w in evidence.windows_for(self.window) if w.kind == "fault"]

    def judge_window(self, evidence, window) -> Verdict:
        frame = evidence.frame(window, self.request)
        failed = failures(frame)
        p99 = percentile_ms(failed if len(failed) else frame, 99)
        if p99 is None:
            return self.no_requests(window, self.fail_fast_ms, "<", "p99_ms")
        state = gauge_series(evidence, self.state_metric)
        notes, held = [], p99 < self.fail_fast_ms
        what = f"p99 of the {len(failed)} failed requests" if len(failed) else f"p99 of all {len(frame)} requests"
        if state.empty and not evidence.service_metrics.empty:
            held = False
            notes.append(f"the scraped services export no {self.state_metric}: there is no breaker")
        elif not state.empty:
            during = state[(state["offset_s"] >= window.start_s) & (state["offset_s"] < window.end_s)]
            opened = bool((during["value"] == self.open_value).any())
            after = state[state["offset_s"] >= window.end_s].groupby("offset_s")["value"].max()
            closed = after[after == self.closed_value]
            close_s = float(closed.index[0] - window.end_s) if len(closed) else None
            held = held and opened and close_s is not None and close_s <= self.close_within_s
            notes.append("the breaker opened" if opened else "the breaker never opened")
            notes.append(f"closed {close_s:.1f} s after the revert" if close_s is not None else "it never closed again")
        else:
            notes.append(f"{self.state_metric} was not scraped, so only fail-fast was judged")
        return Verdict(held, p99, self.fail_fast_ms, "<", "p99_ms",
                       f"{what} was {p99:.0f} ms in {window.name} (bound {self.fail_fast_ms:g} ms); {'; '.join(notes)}.")
