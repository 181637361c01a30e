"""``graceful_degradation``: while a dependency is down, fallback answers are served instead of
errors (seed 002 "Production Readiness Checklist: Graceful degradation")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import CheckSpec, ExpectationResult
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

    def judge(self, evidence) -> list[ExpectationResult]:
        windows = evidence.windows_for(self.window)
        if not windows:
            return [self.no_window()]
        out = []
        for w in windows:
            m = evidence.metrics_of(w, self.request)
            served = counter_increase(evidence, self.fallback_metric, w)
            if m.requests == 0:
                out.append(self.result(w, False, None, self.max_error_rate, "<=", "error_rate",
                                       f"No requests in {w.name}.", inconclusive=True, several=len(windows) > 1))
                continue
            fell_back = served is None or served >= self.min_fallbacks
            held = m.error_rate <= self.max_error_rate and fell_back
            seen = (f"{served:g} fallback answers counted by {self.fallback_metric}" if served is not None
                    else f"{self.fallback_metric} was not scraped")
            out.append(self.result(
                w, held, m.error_rate, self.max_error_rate, "<=", "error_rate",
                f"error rate was {m.error_rate:.2%} in {w.name} with {seen} (at most {self.max_error_rate:.2%} errors "
                f"and at least {self.min_fallbacks:g} fallbacks needed).", several=len(windows) > 1))
        return out
