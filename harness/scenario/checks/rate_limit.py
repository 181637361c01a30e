"""The ``rate_limit`` check's spec: what a scenario's expectation of this kind may say.

How it is judged, and on what evidence, is :mod:`harness.checks.rate_limit`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.checks.backpressure import ShedCheck
from harness.scenario.checks.registry import register_check_spec


@register_check_spec
class RateLimitCheck(ShedCheck):
    """Like ``backpressure``, with 429 as the rejection."""

    summary = "Requests over the rate limit get fast 429s; accepted requests keep a bounded p99."

    check: Literal["rate_limit"] = "rate_limit"
    statuses: list[int] = Field(default_factory=lambda: [429])
