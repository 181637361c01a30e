"""The ``memory_bounded`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.memory_bounded`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
class MemoryBoundedCheck(CheckSpec):
    """Parameters: ``service``; ``max_slope_mib_s`` (least-squares slope of the service's memory,
    summed over its containers, MiB/s); optional ``max_mib``. Judged on the container samples
    the monitor journals once a second.

    Evidence: the service was under load (at least :data:`harness.checks.memory_bounded.MIN_LOADED_REQUESTS` requests in the
    window, and the service sent at least
    ``harness.analysis.fault_effect.IN_PATH_MIN_TX_BYTES_PER_REQUEST`` bytes per request: it
    served them), and its memory was sampled over :data:`harness.checks.memory_bounded.MIN_SAMPLED_SHARE` of the window. A
    flat memory line of an idle service proves nothing: inconclusive."""

    summary = "Memory under load stays flat: no leak (slope and peak bounded)."

    check: Literal["memory_bounded"] = "memory_bounded"
    window: str = "run"
    service: str = Field(min_length=1)
    max_slope_mib_s: float = Field(ge=0, description="MiB/s")
    max_mib: float | None = Field(default=None, gt=0, description="MiB")

    def default_label(self) -> str:
        return f"{self.service} memory grows <= {self.max_slope_mib_s:g} MiB/s in {self.window}"
