"""The ``retry`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.retry`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
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
