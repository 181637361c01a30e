"""The ``backpressure`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.backpressure`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.base import CheckSpec
from harness.scenario.checks.registry import register_check_spec


class ShedCheck(CheckSpec):
    """What every load-shedding check says (not a check itself). Parameters: ``statuses`` (the rejection codes),
    ``reject_p99_ms`` (rejections must be fast), ``accepted_p99_ms`` (what got in stays fast),
    ``min_rejected`` (>= 1: the rejections are the pattern's own signal, and prove overload
    really happened), ``max_timeouts`` (no request may instead time out, default 0). At least
    :data:`harness.scenario.checks.base.MIN_REQUESTS` requests must still be accepted: a service
    that refuses everything sheds no load, it is down."""

    statuses: list[int]
    reject_p99_ms: float = Field(default=100, gt=0, le=3_600_000)
    accepted_p99_ms: float = Field(gt=0, le=3_600_000)
    min_rejected: int = Field(default=1, ge=1)
    max_timeouts: int = Field(default=0, ge=0)

    def default_label(self) -> str:
        return f"{self.check}: excess gets {'/'.join(map(str, self.statuses))} fast in {self.window}"


@register_check_spec
class BackpressureCheck(ShedCheck):
    """Load shedding with 503 (the in-flight limit's answer)."""

    summary = "Overload is shed with fast 503s; accepted requests keep a bounded p99."

    check: Literal["backpressure"] = "backpressure"
    statuses: list[int] = Field(default_factory=lambda: [503])
