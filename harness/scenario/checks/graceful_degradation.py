"""The ``graceful_degradation`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.graceful_degradation`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
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
