"""``graceful_degradation``: while a dependency is down, fallback answers are served instead of
errors (seed 002 "Production Readiness Checklist: Graceful degradation")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class GracefulDegradationCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1) and, when ``fallback_metric`` (a Prometheus counter,
    default ``shop_fallbacks_total``) is scraped, at least ``min_fallbacks`` fallbacks served in
    the window."""

    summary = "Fallback answers are served instead of errors while a dependency is down."

    check: Literal["graceful_degradation"] = "graceful_degradation"
    max_error_rate: float = Field(ge=0, le=1)
    fallback_metric: str = "shop_fallbacks_total"
    min_fallbacks: float = Field(default=1, ge=0)

    def default_label(self) -> str:
        return f"fallbacks instead of errors (error_rate <= {self.max_error_rate:g}) in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        m = evidence.metrics_of(window, self.request)
        if m.requests == 0:
            return self.no_requests(window, self.max_error_rate, "<=", "error_rate")
        served = counter_increase(evidence, self.fallback_metric, window)
        fell_back = served is None or served >= self.min_fallbacks
        seen = (f"{served:g} fallback answers counted by {self.fallback_metric}" if served is not None
                else f"{self.fallback_metric} was not scraped")
        return Verdict(
            m.error_rate <= self.max_error_rate and fell_back, m.error_rate, self.max_error_rate, "<=", "error_rate",
            f"error rate was {m.error_rate:.2%} in {window.name} with {seen} (at most {self.max_error_rate:.2%} "
            f"errors and at least {self.min_fallbacks:g} fallbacks needed).")
