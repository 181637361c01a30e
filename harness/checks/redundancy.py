"""``redundancy``: losing one replica keeps the error rate under a bound (seed 002 "9. Single
Point of Failure"; seed 001 "Pattern A: Active-Active")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.base import CheckSpec, ExpectationResult
from harness.checks.registry import register_check


@register_check
class RedundancyCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1) in the fault window of a replica loss."""

    summary = "Losing a replica keeps the error rate under a bound: no single point of failure."

    check: Literal["redundancy"] = "redundancy"
    max_error_rate: float = Field(ge=0, le=1)

    def default_label(self) -> str:
        return f"redundancy keeps error_rate <= {self.max_error_rate:g} in {self.window}"

    def judge(self, evidence) -> list[ExpectationResult]:
        windows = evidence.windows_for(self.window)
        if not windows:
            return [self.no_window()]
        out = []
        for w in windows:
            m = evidence.metrics_of(w, self.request)
            if m.requests == 0:
                out.append(self.result(w, False, None, self.max_error_rate, "<=", "error_rate",
                                       f"No requests in {w.name}.", inconclusive=True, several=len(windows) > 1))
                continue
            held = m.error_rate <= self.max_error_rate
            out.append(self.result(
                w, held, m.error_rate, self.max_error_rate, "<=", "error_rate",
                f"with a replica lost ({w.name}), {m.requests - round(m.requests * m.success_rate)} of {m.requests} "
                f"requests failed ({m.error_rate:.2%}; at most {self.max_error_rate:.2%} allowed).",
                several=len(windows) > 1))
        return out
