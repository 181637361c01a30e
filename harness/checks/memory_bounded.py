"""``memory_bounded``: a service's memory under load does not grow beyond a slope or a limit
(seed 002 "7. Memory Leaks": a cache that grows forever)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.base import CheckSpec, Verdict
from harness.checks.registry import register_check


@register_check
class MemoryBoundedCheck(CheckSpec):
    """Parameters: ``service``; ``max_slope_mib_s`` (least-squares slope of the service's memory,
    summed over its containers, MiB/s); optional ``max_mib``. Judged on the container samples
    the monitor journals once a second."""

    summary = "Memory under load stays flat: no leak (slope and peak bounded)."

    check: Literal["memory_bounded"] = "memory_bounded"
    window: str = "run"
    service: str = Field(min_length=1)
    max_slope_mib_s: float = Field(ge=0, description="MiB/s")
    max_mib: float | None = Field(default=None, gt=0, description="MiB")

    def default_label(self) -> str:
        return f"{self.service} memory grows <= {self.max_slope_mib_s:g} MiB/s in {self.window}"

    def judge_window(self, evidence, window) -> Verdict:
        from harness.analysis.containers import telemetry  # pandas: loaded lazily (see checks._evidence_tools)

        seen = telemetry(evidence.containers, evidence.container_events, window).get(self.service)
        if seen is None or seen.mem_slope_mib_s is None:
            return Verdict(False, None, self.max_slope_mib_s, "<=", "mem_slope_mib_s",
                           f"No memory samples of {self.service} in {window.name}.", inconclusive=True)
        held = seen.mem_slope_mib_s <= self.max_slope_mib_s and (
            self.max_mib is None or (seen.mem_mib_max or 0) <= self.max_mib)
        peak = f", peak {seen.mem_mib_max:g} MiB" + (f" (limit {self.max_mib:g})" if self.max_mib else "")
        return Verdict(held, seen.mem_slope_mib_s, self.max_slope_mib_s, "<=", "mem_slope_mib_s",
                       f"{self.service} memory grew {seen.mem_slope_mib_s:g} MiB/s in {window.name}{peak}; at most "
                       f"{self.max_slope_mib_s:g} MiB/s allowed.")
