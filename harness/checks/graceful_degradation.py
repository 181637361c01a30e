"""``graceful_degradation``: while a dependency is down, fallback answers are served instead of
errors (seed 002 "Production Readiness Checklist: Graceful degradation")."""

from __future__ import annotations

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import Judge, Verdict, needed_requests
from harness.checks.registry import register_judge
from harness.scenario.checks.graceful_degradation import GracefulDegradationCheck


@register_judge
class GracefulDegradationJudge(Judge):
    """Judges :class:`~harness.scenario.checks.graceful_degradation.GracefulDegradationCheck` (see the module
    docstring)."""

    spec_type = GracefulDegradationCheck
    spec: GracefulDegradationCheck

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        m = evidence.metrics_of(window, spec.request)
        if m.requests == 0:
            return self.no_requests(evidence, window, spec.max_error_rate, "<=", "error_rate")
        served = counter_increase(evidence, spec.fallback_metric, window, spec.metric_service)
        rate = f"error rate was {m.error_rate:.2%} of {m.requests} requests in {window.name}"
        if served is None:
            return Verdict(False, m.error_rate, spec.max_error_rate, "<=", "error_rate",
                           f"Inconclusive: {spec.fallback_metric} was not scraped, so no fallback could be seen "
                           f"({rate}).", inconclusive=True,
                           evidence=(f"{spec.fallback_metric} not scraped (add the service to target.scrape)",))
        held = m.error_rate <= spec.max_error_rate and served >= spec.min_fallbacks
        verdict = Verdict(
            held, m.error_rate, spec.max_error_rate, "<=", "error_rate",
            f"{rate} with {served:g} fallback answers (at most {spec.max_error_rate:.2%} errors and at least "
            f"{spec.min_fallbacks:g} fallbacks needed).",
            evidence=(f"{served:g} fallback answers counted by {spec.fallback_metric} in {window.name}",))
        return verdict.powered(m.requests, needed_requests("error_rate", "<=", spec.max_error_rate))
