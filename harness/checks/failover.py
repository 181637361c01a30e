"""``failover`` / ``health_check``: after a replica is killed or paused, the load balancer stops
sending to it within N s, so errors stop (seed 001 "2. Detection: The Health Check", "Can I
isolate it?")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import failures
from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class FailoverCheck(CheckSpec):
    """Parameters: ``within_s``: the last failed *or* slow request (slower than ``slow_ms``,
    default 2000) must start within this many seconds of the inject."""

    summary = "The load balancer routes around a lost replica: errors stop within N s."

    check: Literal["failover"] = "failover"
    within_s: float = Field(gt=0, le=3600, description="seconds from inject")
    slow_ms: float = Field(default=2000, gt=0, description="a request this slow counts as a symptom, ms")

    def default_label(self) -> str:
        return f"{self.check}: errors stop within {self.within_s:g} s in {self.window}"

    def windows(self, evidence):
        return [w for w in evidence.windows_for(self.window) if w.kind == "fault"]

    def judge_window(self, evidence, window) -> Verdict:
        frame = evidence.frame(window, self.request)
        if len(frame) == 0:
            return self.no_requests(window, self.within_s, "<=", "symptoms_stop_s")
        bad = frame[(frame["error"] != "") | (frame["duration_ms"] > self.slow_ms)]
        failed = len(failures(frame))
        last = float(bad["offset_s"].max() - window.start_s) if len(bad) else 0.0
        return Verdict(
            last <= self.within_s, round(last, 3), self.within_s, "<=", "symptoms_stop_s",
            f"{failed} failed and {len(bad) - failed} slow requests in {window.name}; the last started {last:.1f} s "
            f"after the inject (at most {self.within_s:g} s allowed).")


@register_check
class HealthCheckCheck(FailoverCheck):
    """Same judge as ``failover``, named after the mechanism (active health checks)."""

    summary = "Health checks take a failed replica out of rotation: errors stop within N s."

    check: Literal["health_check"] = "health_check"  # type: ignore[assignment]
