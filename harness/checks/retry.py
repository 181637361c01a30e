"""``retry``: a transient fault (e.g. ``reset_peer`` at toxicity 0.3) is absorbed: the error rate
stays under a bound while the dependency really was failing (seed 001 "Retry with Backoff",
seed 002 "1. No Retries")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import CheckSpec, Verdict, needed_requests
from harness.checks.registry import register_check


@register_check
class RetryCheck(CheckSpec):
    """Parameters: ``max_error_rate`` (0..1). Evidence that the pattern acted: the service's
    ``retries_metric`` (a Prometheus counter it exports, default
    ``shop_dependency_retries_total``; scrape it with ``target.scrape``; ``metric_service``
    narrows it to one service's containers) grew by at least
    ``min_retries`` (>= 1) in the window. A low error rate without a retry proves nothing (the
    dependency may never have failed), so: not scraped -> inconclusive; scraped and not grown
    (or not exported: a service without retries) while failures reached the clients -> failed;
    not grown and no failure at all -> inconclusive (nothing to retry was seen)."""

    summary = "Retries absorb a transient fault: client error rate stays low while the dependency fails."

    check: Literal["retry"] = "retry"
    max_error_rate: float = Field(ge=0, le=1, description="bound on the client error rate, 0..1")
    metric_service: str | None = Field(default=None, min_length=1,
                                       description="the service exporting the metric (default: any scraped one)")
    retries_metric: str = "shop_dependency_retries_total"
    min_retries: float = Field(default=1, ge=1)

    def default_label(self) -> str:
        return f"retries keep error_rate <= {self.max_error_rate:g} in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        m = evidence.metrics_of(window, self.request)
        if m.requests == 0:
            return self.no_requests(evidence, window, self.max_error_rate, "<=", "error_rate")
        retries = counter_increase(evidence, self.retries_metric, window, self.metric_service)
        rate = (f"error rate was {m.error_rate:.2%} of {m.requests} requests in {window.name}; it had to stay at most "
                f"{self.max_error_rate:.2%}")
        if retries is None:
            return Verdict(False, m.error_rate, self.max_error_rate, "<=", "error_rate",
                           f"Inconclusive: {self.retries_metric} was not scraped, so no retry could be seen ({rate}).",
                           inconclusive=True, evidence=(f"{self.retries_metric} not scraped (add the service to "
                                                        "target.scrape)",))
        retried = retries >= self.min_retries
        failed = sum(m.errors.values())
        if not retried and failed == 0:
            return Verdict(False, m.error_rate, self.max_error_rate, "<=", "error_rate",
                           f"Inconclusive: nothing was retried and nothing failed ({rate}, {retries:g} retries "
                           "counted): the dependency may never have failed in this window.", inconclusive=True,
                           evidence=(f"{retries:g} retries counted by {self.retries_metric} in {window.name}",))
        held = m.error_rate <= self.max_error_rate and retried
        verdict = Verdict(
            held, m.error_rate, self.max_error_rate, "<=", "error_rate",
            f"{rate}, with {retries:g} retries counted" + ("" if retried else f" (at least {self.min_retries:g} "
                                                             f"needed: {failed} failures reached the clients unretried)")
            + f", so retries {'absorbed' if held else 'did not absorb'} the fault.",
            evidence=(f"{retries:g} retries counted by {self.retries_metric} in {window.name}",))
        return verdict.powered(m.requests, needed_requests("error_rate", "<=", self.max_error_rate))
