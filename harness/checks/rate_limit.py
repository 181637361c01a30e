"""``rate_limit``: over the limit, clients get 429 quickly and the accepted requests stay fast
(seed 002 "10. No Rate Limiting")."""

from __future__ import annotations

from harness.checks.backpressure import ShedJudge
from harness.checks.registry import register_judge
from harness.scenario.checks.rate_limit import RateLimitCheck


@register_judge
class RateLimitJudge(ShedJudge):
    """Judges :class:`harness.scenario.checks.rate_limit.RateLimitCheck` (see the module docstring)."""

    spec_type = RateLimitCheck
    spec: RateLimitCheck
