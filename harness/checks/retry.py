"""``retry``: a transient fault (e.g. ``reset_peer`` at toxicity 0.3) is absorbed: the error rate
stays under a bound while the dependency really was failing (seed 001 "Retry with Backoff",
seed 002 "1. No Retries")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class RetryCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1). Proof that the dependency failed: when
    ``retries_metric`` (a Prometheus counter, default ``shop_dependency_retries_total``) is
    scraped, it must grow by at least ``min_retries`` in the window; otherwise the check says it
    could only see the client side."""

    summary = "Retries absorb a transient fault: client error rate stays low while the dependency fails."

    check: Literal["retry"] = "retry"
    max_error_rate: float = Field(ge=0, le=1, description="bound on the client error rate, 0..1")
    retries_metric: str = "shop_dependency_retries_total"
    min_retries: float = Field(default=1, ge=0)

    def default_label(self) -> str:
        return f"retries keep error_rate <= {self.max_error_rate:g} in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        m = evidence.metrics_of(window, self.request)
        if m.requests == 0:
            return self.no_requests(window, self.max_error_rate, "<=", "error_rate")
        retries = counter_increase(evidence, self.retries_metric, window)
        failing = retries is None or retries >= self.min_retries
        held = m.error_rate <= self.max_error_rate and failing
        seen = (f"{retries:g} retries counted by {self.retries_metric}" if retries is not None
                else f"{self.retries_metric} was not scraped, so only the client side was seen")
        return Verdict(
            held, m.error_rate, self.max_error_rate, "<=", "error_rate",
            f"error rate was {m.error_rate:.2%} of {m.requests} requests in {window.name} ({seen}); it had to stay at "
            f"most {self.max_error_rate:.2%}" + ("" if failing else " and the dependency had to fail (no retries)")
            + f", so retries {'absorbed' if held else 'did not absorb'} the fault.")
