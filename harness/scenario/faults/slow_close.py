"""The ``slow_close`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.slow_close`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class SlowCloseSpec(NetworkFaultSpec):
    """Parameters: ``delay_ms`` (0..600000): how long each close is held back."""

    summary = ("Slow connection teardown: the peer's close (FIN) arrives delay_ms late; only clients that read until "
               "EOF wait (keep-alive clients reading Content-Length do not notice).")
    seed_section = "002 Production Failures, 6. Database Connection Pool Exhaustion"

    kind: Literal["slow_close"] = "slow_close"
    delay_ms: int = Field(ge=0, le=600_000, description="delay before a close is passed on, ms")


__all__ = ["SlowCloseSpec"]
