"""``backpressure``: under overload, the excess is answered 503 quickly instead of timing out, and
accepted requests keep a bounded p99 (seed 002 "4. No Backpressure Handling")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import percentile_ms
from harness.checks.base import MIN_REQUESTS, CheckSpec, Verdict
from harness.checks.registry import register_check


class ShedCheck(CheckSpec):
    """Shared judge of load shedding. Parameters: ``statuses`` (the rejection codes),
    ``reject_p99_ms`` (rejections must be fast), ``accepted_p99_ms`` (what got in stays fast),
    ``min_rejected`` (>= 1: the rejections are the pattern's own signal, and prove overload
    really happened), ``max_timeouts`` (no request may instead time out, default 0). At least
    ``harness.checks.base.MIN_REQUESTS`` requests must still be accepted: a service that refuses
    everything sheds no load, it is down."""

    statuses: list[int]
    reject_p99_ms: float = Field(default=100, gt=0, le=3_600_000)
    accepted_p99_ms: float = Field(gt=0, le=3_600_000)
    min_rejected: int = Field(default=1, ge=1)
    max_timeouts: int = Field(default=0, ge=0)

    def default_label(self) -> str:
        return f"{self.check}: excess gets {'/'.join(map(str, self.statuses))} fast in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        frame = evidence.frame(window, self.request)
        if len(frame) == 0:
            return self.no_requests(evidence, window, self.reject_p99_ms, "<=", "reject_p99_ms")
        rejected = frame[frame["status"].isin(self.statuses)]
        accepted = frame[frame["error"] == ""]
        timeouts = int((frame["error"] == "timeout").sum())
        reject_p99 = percentile_ms(rejected, 99)
        accepted_p99 = percentile_ms(accepted, 99)
        verdict = self._verdict(window, frame, rejected, accepted, timeouts, reject_p99, accepted_p99)
        return verdict.powered(len(frame), MIN_REQUESTS)

    def _verdict(self, window, frame, rejected, accepted, timeouts: int, reject_p99: float | None,
                 accepted_p99: float | None) -> Verdict:
        served = len(accepted) >= MIN_REQUESTS  # shedding everything is an outage, not backpressure
        held = (len(rejected) >= self.min_rejected and timeouts <= self.max_timeouts and served
                and (reject_p99 is None or reject_p99 <= self.reject_p99_ms)
                and accepted_p99 is not None and accepted_p99 <= self.accepted_p99_ms)
        return Verdict(
            held, reject_p99, self.reject_p99_ms, "<=", "reject_p99_ms",
            f"{len(rejected)} of {len(frame)} requests were rejected with {'/'.join(map(str, self.statuses))} in "
            f"{window.name} (p99 {_ms(reject_p99)}, bound {self.reject_p99_ms:g} ms); {len(accepted)} accepted had "
            f"p99 {_ms(accepted_p99)} (bound {self.accepted_p99_ms:g} ms); {timeouts} timed out (at most "
            f"{self.max_timeouts}); at least {self.min_rejected} rejections were needed"
            + ("" if served else f", and at least {MIN_REQUESTS} accepted requests (shedding everything is an outage)")
            + ".",
            evidence=(f"{len(rejected)} requests rejected with {'/'.join(map(str, self.statuses))} in {window.name}",))


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f} ms"


@register_check
class BackpressureCheck(ShedCheck):
    """Load shedding with 503 (the in-flight limit's answer)."""

    summary = "Overload is shed with fast 503s; accepted requests keep a bounded p99."

    check: Literal["backpressure"] = "backpressure"
    statuses: list[int] = Field(default_factory=lambda: [503])
