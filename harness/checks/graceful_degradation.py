"""``graceful_degradation``: while a dependency is down, fallback answers are served instead of
errors (seed 002 "Production Readiness Checklist: Graceful degradation")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import CheckSpec, Verdict, needed_requests
from harness.checks.registry import register_check


@register_check
class GracefulDegradationCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1). Evidence that the pattern acted: the service's
    ``fallback_metric`` (a Prometheus counter, default ``shop_fallbacks_total``; scrape it with
    ``target.scrape``; ``metric_service`` narrows it to one service) grew by at least ``min_fallbacks`` (>= 1) in the window: answers were
    served *instead of* the dependency's. Not scraped -> inconclusive; scraped and not grown ->
    failed (a low error rate alone may mean the dependency was never missed)."""

    summary = "Fallback answers are served instead of errors while a dependency is down."

    check: Literal["graceful_degradation"] = "graceful_degradation"
    max_error_rate: float = Field(ge=0, le=1)
    metric_service: str | None = Field(default=None, min_length=1,
                                       description="the service exporting the metric (default: any scraped one)")
    fallback_metric: str = "shop_fallbacks_total"
    min_fallbacks: float = Field(default=1, ge=1)

    def default_label(self) -> str:
        return f"fallbacks instead of errors (error_rate <= {self.max_error_rate:g}) in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        m = evidence.metrics_of(window, self.request)
        if m.requests == 0:
            return self.no_requests(evidence, window, self.max_error_rate, "<=", "error_rate")
        served = counter_increase(evidence, self.fallback_metric, window, self.metric_service)
        rate = f"error rate was {m.error_rate:.2%} of {m.requests} requests in {window.name}"
        if served is None:
            return Verdict(False, m.error_rate, self.max_error_rate, "<=", "error_rate",
                           f"Inconclusive: {self.fallback_metric} was not scraped, so no fallback could be seen "
                           f"({rate}).", inconclusive=True,
                           evidence=(f"{self.fallback_metric} not scraped (add the service to target.scrape)",))
        held = m.error_rate <= self.max_error_rate and served >= self.min_fallbacks
        verdict = Verdict(
            held, m.error_rate, self.max_error_rate, "<=", "error_rate",
            f"{rate} with {served:g} fallback answers (at most {self.max_error_rate:.2%} errors and at least "
            f"{self.min_fallbacks:g} fallbacks needed).",
            evidence=(f"{served:g} fallback answers counted by {self.fallback_metric} in {window.name}",))
        return verdict.powered(m.requests, needed_requests("error_rate", "<=", self.max_error_rate))
