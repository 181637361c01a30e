"""``redundancy``: losing one replica keeps the error rate under a bound (seed 002 "9. Single
Point of Failure"; seed 001 "Pattern A: Active-Active")."""

from __future__ import annotations

from harness.checks.base import Judge, Verdict, needed_requests
from harness.checks.registry import register_judge
from harness.scenario.checks.redundancy import RedundancyCheck

MIN_FLOW = 0.5
"""With a replica lost, at least this share of the baseline's request rate must still start:
the survivors took the load (a closed-model load that slowed to a trickle hides errors)."""


@register_judge
class RedundancyJudge(Judge):
    """Judges :class:`harness.scenario.checks.redundancy.RedundancyCheck` (see the module docstring)."""

    spec_type = RedundancyCheck
    spec: RedundancyCheck

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        m = evidence.metrics_of(window, spec.request)
        if m.requests == 0:
            return self.no_requests(evidence, window, spec.max_error_rate, "<=", "error_rate")
        failed = sum(m.errors.values())
        expected = evidence.expected_requests(window, spec.request)
        lost = f"with a replica lost ({window.name}), {failed} of {m.requests} requests failed ({m.error_rate:.2%}; " \
               f"at most {spec.max_error_rate:.2%} allowed)"
        if expected <= 0:
            verdict = Verdict(m.error_rate <= spec.max_error_rate, m.error_rate, spec.max_error_rate, "<=",
                              "error_rate", lost + ".", evidence=(f"{m.requests} requests started, no baseline",))
            if verdict.held:
                return verdict.unproven("there is no baseline to tell whether the other replicas carried the load")
            return verdict
        flowing = m.requests >= MIN_FLOW * expected
        flow = f"{m.requests} requests started ({m.rps:g}/s), {m.requests / expected:.0%} of the baseline's rate"
        verdict = Verdict(
            m.error_rate <= spec.max_error_rate and flowing, m.error_rate, spec.max_error_rate, "<=", "error_rate",
            lost + ("" if flowing else f", and only {flow}: the other replicas did not carry the load") + ".",
            evidence=(f"the survivors carried the load: {flow}" if flowing else flow,))
        return verdict.powered(m.requests, needed_requests("error_rate", "<=", spec.max_error_rate))
