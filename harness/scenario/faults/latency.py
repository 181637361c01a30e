"""The ``latency`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.latency`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class LatencySpec(NetworkFaultSpec):
    """Parameters: ``latency_ms`` (0..600000) and ``jitter_ms`` (0..600000, <= latency is usual)."""

    summary = ("Slow dependency: every chunk through the proxy is delayed by latency_ms (answers, by default); the "
               "TCP connect itself is not delayed, so connect timeouts never fire.")
    seed_section = "000 How Servers Fail, 4. Scenario 3: High Latency"

    kind: Literal["latency"] = "latency"
    latency_ms: int = Field(ge=0, le=600_000, description="added delay per chunk, ms")
    jitter_ms: int = Field(default=0, ge=0, le=600_000, description="uniform +- jitter, ms")


__all__ = ["LatencySpec"]
