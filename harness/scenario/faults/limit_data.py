"""The ``limit_data`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.limit_data`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class LimitDataSpec(NetworkFaultSpec):
    """Parameters: ``bytes`` (0..2**40): bytes let through per connection before it is closed."""

    summary = ("Transfer cut mid-way: each connection is closed (FIN) once `bytes` bytes have passed since inject; "
               "answers that fit in what is left pass intact.")
    seed_section = "000 How Servers Fail, 6. Telecom / Cloud Production Context: Data path interruption"

    kind: Literal["limit_data"] = "limit_data"
    bytes: int = Field(ge=0, le=2**40, description="bytes passed per connection before it is closed, bytes")


__all__ = ["LimitDataSpec"]
