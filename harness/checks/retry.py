"""``retry``: a transient fault (e.g. ``reset_peer`` at toxicity 0.3) is absorbed: the error rate
stays under a bound while the dependency really was failing (seed 001 "Retry with Backoff",
seed 002 "1. No Retries")."""

from __future__ import annotations

from harness.checks._evidence_tools import counter_increase
from harness.checks.base import Judge, Verdict, needed_requests
from harness.checks.registry import register_judge
from harness.scenario.checks.retry import RetryCheck


@register_judge
class RetryJudge(Judge):
    """Judges :class:`harness.scenario.checks.retry.RetryCheck` (see the module docstring)."""

    spec_type = RetryCheck
    spec: RetryCheck

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        m = evidence.metrics_of(window, spec.request)
        if m.requests == 0:
            return self.no_requests(evidence, window, spec.max_error_rate, "<=", "error_rate")
        retries = counter_increase(evidence, spec.retries_metric, window, spec.metric_service)
        rate = (f"error rate was {m.error_rate:.2%} of {m.requests} requests in {window.name}; it had to stay at most "
                f"{spec.max_error_rate:.2%}")
        if retries is None:
            return Verdict(False, m.error_rate, spec.max_error_rate, "<=", "error_rate",
                           f"Inconclusive: {spec.retries_metric} was not scraped, so no retry could be seen ({rate}).",
                           inconclusive=True, evidence=(f"{spec.retries_metric} not scraped (add the service to "
                                                        "target.scrape)",))
        retried = retries >= spec.min_retries
        failed = sum(m.errors.values())
        if not retried and failed == 0:
            return Verdict(False, m.error_rate, spec.max_error_rate, "<=", "error_rate",
                           f"Inconclusive: nothing was retried and nothing failed ({rate}, {retries:g} retries "
                           "counted): the dependency may never have failed in this window.", inconclusive=True,
                           evidence=(f"{retries:g} retries counted by {spec.retries_metric} in {window.name}",))
        held = m.error_rate <= spec.max_error_rate and retried
        verdict = Verdict(
            held, m.error_rate, spec.max_error_rate, "<=", "error_rate",
            f"{rate}, with {retries:g} retries counted" + ("" if retried else f" (at least {spec.min_retries:g} "
                                                             f"needed: {failed} failures reached the clients unretried)")
            + f", so retries {'absorbed' if held else 'did not absorb'} the fault.",
            evidence=(f"{retries:g} retries counted by {spec.retries_metric} in {window.name}",))
        return verdict.powered(m.requests, needed_requests("error_rate", "<=", spec.max_error_rate))
