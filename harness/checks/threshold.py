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
        spec = self.spec
        metrics = evidence.metrics_of(window, spec.request)
        observed = getattr(metrics, spec.metric)
        if observed is None or metrics.requests == 0:
            return self.no_requests(evidence, window, spec.limit, spec.operator, spec.metric)
        held = spec.holds(observed)
        scope = f" for {spec.request}" if spec.request else ""
        verdict = Verdict(
            held, float(observed), spec.limit, spec.operator, spec.metric,
            f"{spec.metric}{scope} was {observed:g} in {window.name} ({metrics.requests} requests, "
            f"{window.start_s:g}-{window.end_s:g} s); it had to be {WORDS[spec.operator]} {spec.limit:g}, "
            f"so the expectation {'held' if held else 'failed'}.",
            evidence=(f"{metrics.requests} requests{scope} measured in {window.name}",))
        return verdict.powered(metrics.requests, needed_requests(spec.metric, spec.operator, spec.limit))
