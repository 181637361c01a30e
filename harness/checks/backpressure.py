"""``backpressure``: under overload, the excess is answered 503 quickly instead of timing out, and
accepted requests keep a bounded p99 (seed 002 "4. No Backpressure Handling")."""

from __future__ import annotations

from harness.checks._evidence_tools import percentile_ms
from harness.checks.base import MIN_REQUESTS, Judge, Verdict
from harness.checks.registry import register_judge
from harness.scenario.checks.backpressure import BackpressureCheck, ShedCheck


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


class ShedJudge(Judge):
    """Judges :class:`harness.scenario.checks.backpressure.ShedCheck` (see the module docstring)."""

    spec_type = ShedCheck
    spec: ShedCheck

    def judge_window(self, evidence, window) -> Verdict:
        spec = self.spec
        frame = evidence.frame(window, spec.request)
        if len(frame) == 0:
            return self.no_requests(evidence, window, spec.reject_p99_ms, "<=", "reject_p99_ms")
        rejected = frame[frame["status"].isin(spec.statuses)]
        accepted = frame[frame["error"] == ""]
        timeouts = int((frame["error"] == "timeout").sum())
        reject_p99 = percentile_ms(rejected, 99)
        accepted_p99 = percentile_ms(accepted, 99)
        verdict = self._verdict(window, frame, rejected, accepted, timeouts, reject_p99, accepted_p99)
        return verdict.powered(len(frame), MIN_REQUESTS)

    def _verdict(self, window, frame, rejected, accepted, timeouts: int, reject_p99: float | None,
                 accepted_p99: float | None) -> Verdict:
        spec = self.spec
        served = len(accepted) >= MIN_REQUESTS  # shedding everything is an outage, not backpressure
        held = (len(rejected) >= spec.min_rejected and timeouts <= spec.max_timeouts and served
                and (reject_p99 is None or reject_p99 <= spec.reject_p99_ms)
                and accepted_p99 is not None and accepted_p99 <= spec.accepted_p99_ms)
        return Verdict(
            held, reject_p99, spec.reject_p99_ms, "<=", "reject_p99_ms",
            f"{len(rejected)} of {len(frame)} requests were rejected with {'/'.join(map(str, spec.statuses))} in "
            f"{window.name} (p99 {_ms(reject_p99)}, bound {spec.reject_p99_ms:g} ms); {len(accepted)} accepted had "
            f"p99 {_ms(accepted_p99)} (bound {spec.accepted_p99_ms:g} ms); {timeouts} timed out (at most "
            f"{spec.max_timeouts}); at least {spec.min_rejected} rejections were needed"
            + ("" if served else f", and at least {MIN_REQUESTS} accepted requests (shedding everything is an outage)")
            + ".",
            evidence=(f"{len(rejected)} requests rejected with {'/'.join(map(str, spec.statuses))} in {window.name}",))


@register_judge
class BackpressureJudge(ShedJudge):
    """Judges :class:`harness.scenario.checks.backpressure.BackpressureCheck` (see the module docstring)."""

    spec_type = BackpressureCheck
    spec: BackpressureCheck
