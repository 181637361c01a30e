"""``timeout``: during a latency fault, p99 is bounded by the configured timeout plus a margin,
not by the injected latency (seed 002, "2. No Timeouts": hanging requests consume resources)."""

from __future__ import annotations

from harness.checks.base import Judge, Verdict, needed_requests
from harness.checks.registry import register_judge
from harness.scenario.checks.timeout import TimeoutCheck


@register_judge
class TimeoutJudge(Judge):
    """Judges :class:`harness.scenario.checks.timeout.TimeoutCheck` (see the module docstring)."""

    spec_type = TimeoutCheck
    spec: TimeoutCheck

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        bound = spec.timeout_ms + spec.margin_ms
        metrics = evidence.metrics_of(window, spec.request)
        observed = getattr(metrics, spec.percentile)
        if observed is None:
            return self.no_requests(evidence, window, bound, "<=", spec.percentile)
        injected = getattr(evidence.faults.get(window.fault or ""), "latency_ms", None)
        held = observed <= bound and (injected is None or observed < injected)
        against = f"; the injected latency was {injected:g} ms" if injected is not None else ""
        exercised = spec.exercised_ms if spec.exercised_ms is not None else spec.timeout_ms / 2
        slowest = metrics.max_ms or 0.0
        verdict = Verdict(
            held, observed, bound, "<=", spec.percentile,
            f"{spec.percentile} was {observed:g} ms in {window.name} against a {spec.timeout_ms:g} ms timeout "
            f"(+{spec.margin_ms:g} ms margin){against}: timeouts {'bounded' if held else 'did not bound'} latency.",
            evidence=(f"the slowest of {metrics.requests} requests took {slowest:g} ms (a request of at least "
                      f"{exercised:g} ms shows the timeout was reached)",))
        if held and slowest < exercised:
            return verdict.unproven(f"no request waited {exercised:g} ms (the slowest took {slowest:g} ms), so the "
                                    "timeout was never exercised: nothing hung")
        return verdict.powered(metrics.requests, needed_requests(spec.percentile, "<=", bound))
