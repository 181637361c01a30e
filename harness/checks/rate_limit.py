"""``rate_limit``: over the limit, clients get 429 quickly and the accepted requests stay fast
(seed 002 "10. No Rate Limiting")."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.checks.backpressure import ShedCheck
from harness.checks.registry import register_check


@register_check
class RateLimitCheck(ShedCheck):
    """Like ``backpressure``, with 429 as the rejection."""

    summary = "Requests over the rate limit get fast 429s; accepted requests keep a bounded p99."

    check: Literal["rate_limit"] = "rate_limit"
    statuses: list[int] = Field(default_factory=lambda: [429])
