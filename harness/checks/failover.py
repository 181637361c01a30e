"""``failover`` / ``health_check``: after a replica is killed or paused, the load balancer stops
sending to it within N s, so errors stop (seed 001 "2. Detection: The Health Check", "Can I
isolate it?")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks._evidence_tools import failures
from harness.checks.base import CheckSpec, ExpectationResult
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

    def judge(self, evidence) -> list[ExpectationResult]:
        windows = [w for w in evidence.windows_for(self.window) if w.kind == "fault"]
        if not windows:
            return [self.no_window()]
        out = []
        for w in windows:
            frame = evidence.frame(w, self.request)
            bad = frame[(frame["error"] != "") | (frame["duration_ms"] > self.slow_ms)]
            if len(frame) == 0:
                out.append(self.result(w, False, None, self.within_s, "<=", "symptoms_stop_s",
                                       f"No requests in {w.name}.", inconclusive=True, several=len(windows) > 1))
                continue
            last = float(bad["offset_s"].max() - w.start_s) if len(bad) else 0.0
            held = last <= self.within_s
            out.append(self.result(
                w, held, round(last, 3), self.within_s, "<=", "symptoms_stop_s",
                f"{len(failures(frame))} failed and {len(bad) - len(failures(frame))} slow requests in {w.name}; the "
                f"last started {last:.1f} s after the inject (at most {self.within_s:g} s allowed).",
                several=len(windows) > 1))
        return out


@register_check
class HealthCheckCheck(FailoverCheck):
    """Same judge as ``failover``, named after the mechanism (active health checks)."""

    summary = "Health checks take a failed replica out of rotation: errors stop within N s."

    check: Literal["health_check"] = "health_check"  # type: ignore[assignment]
