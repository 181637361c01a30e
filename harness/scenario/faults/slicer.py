"""The ``slicer`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.slicer`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class SlicerSpec(NetworkFaultSpec):
    """Parameters: ``average_size_bytes`` (2..1048576), ``size_variation_bytes`` (1..<average,
    default 1) and ``delay_us`` (0..10000000 microseconds between pieces, default 0).

    Raises (validation): ``size_variation_bytes`` >= ``average_size_bytes``.
    """

    summary = "Fragmented transfer: data arrives in many small TCP pieces, with gaps between them."
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Network Layer"

    kind: Literal["slicer"] = "slicer"
    average_size_bytes: int = Field(ge=2, le=1_048_576, description="average size of a piece, bytes")
    size_variation_bytes: int = Field(default=1, ge=1, le=1_048_575,
                                      description="+- random variation of a piece's size, bytes (< average)")
    delay_us: int = Field(default=0, ge=0, le=10_000_000, description="pause after each piece, microseconds")

    @model_validator(mode="after")
    def _variation_below_average(self) -> "SlicerSpec":
        if self.size_variation_bytes >= self.average_size_bytes:
            raise ValueError(
                f"size_variation_bytes ({self.size_variation_bytes}) must be smaller than "
                f"average_size_bytes ({self.average_size_bytes})"
            )
        return self


__all__ = ["SlicerSpec"]
