"""``redundancy``: losing one replica keeps the error rate under a bound (seed 002 "9. Single
Point of Failure"; seed 001 "Pattern A: Active-Active")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class RedundancyCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1) in the fault window of a replica loss."""

    summary = "Losing a replica keeps the error rate under a bound: no single point of failure."

    check: Literal["redundancy"] = "redundancy"
    max_error_rate: float = Field(ge=0, le=1)

    def default_label(self) -> str:
        return f"redundancy keeps error_rate <= {self.max_error_rate:g} in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        m = evidence.metrics_of(window, self.request)
        if m.requests == 0:
            return self.no_requests(window, self.max_error_rate, "<=", "error_rate")
        failed = sum(m.errors.values())
        return Verdict(
            m.error_rate <= self.max_error_rate, m.error_rate, self.max_error_rate, "<=", "error_rate",
            f"with a replica lost ({window.name}), {failed} of {m.requests} requests failed ({m.error_rate:.2%}; "
            f"at most {self.max_error_rate:.2%} allowed).")
