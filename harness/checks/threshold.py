"""``threshold``: a k6-style bound on one window metric, e.g. ``p99_ms < 800 in fault``."""

from __future__ import annotations

from harness.checks.base import Judge, Verdict, needed_requests
from harness.checks.registry import register_judge
from harness.scenario.checks.threshold import Threshold

WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}
"""Each operator in the words of a verdict's explanation."""


@register_judge
class ThresholdJudge(Judge):
    """Judges :class:`harness.scenario.checks.threshold.Threshold` (see the module docstring)."""

    spec_type = Threshold
    spec: Threshold

    def judge_window(self, evidence, window) -> Verdict:
        metrics = evidence.metrics_of(window, self.spec.request)
        observed = getattr(metrics, self.spec.metric)
        if observed is None or metrics.requests == 0:
            return self.no_requests(evidence, window, self.spec.limit, self.spec.operator, self.spec.metric)
        held = self.spec.holds(observed)
        scope = f" for {self.spec.request}" if self.spec.request else ""
        verdict = Verdict(
            held, float(observed), self.spec.limit, self.spec.operator, self.spec.metric,
            f"{self.spec.metric}{scope} was {observed:g} in {window.name} ({metrics.requests} requests, "
            f"{window.start_s:g}-{window.end_s:g} s); it had to be {WORDS[self.spec.operator]} {self.spec.limit:g}, "
            f"so the expectation {'held' if held else 'failed'}.",
            evidence=(f"{metrics.requests} requests{scope} measured in {window.name}",))
        return verdict.powered(metrics.requests, needed_requests(self.spec.metric, self.spec.operator, self.spec.limit))
