"""``slicer``: cut the data through a Toxiproxy proxy into many small pieces, optionally spaced.

Mechanism: Toxiproxy's ``slicer`` toxic on the chosen stream(s). Each chunk of data is split
recursively into pieces of about ``average_size_bytes`` (+- ``size_variation_bytes``), each
followed by a pause of ``delay_us`` microseconds.

What the client sees: the same bytes, in the same order, arriving in many small reads (TCP
segmentation as on a lossy or small-MTU path, or a peer that writes byte by byte). Correct
clients are unaffected apart from added time (about ``delay_us`` per piece); a client that assumes
one read is one message, or that times out per read with a tight budget on large bodies, breaks.

Open connections: affected too (added to every live link). On revert the rest of a chunk being
sliced is sent at once.

Limits: nothing is lost or reordered. Validation keeps Toxiproxy safe: its slicer draws
``rand.Intn(2 * size_variation)`` and halves chunks by ``+- size_variation``, so a variation of 0
would panic the Toxiproxy process and a variation >= the average size could recurse forever;
hence ``1 <= size_variation_bytes < average_size_bytes``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from harness.faults.base import NetworkFaultSpec
from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault


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


@register
class SlicerFault(ToxicFault):
    """Toxiproxy ``slicer`` toxic: attributes ``average_size`` and ``size_variation`` in bytes,
    ``delay`` in microseconds."""

    spec_type = SlicerSpec
    toxic_type = "slicer"
    spec: SlicerSpec

    def attributes(self) -> dict[str, int | float]:
        return {
            "average_size": self.spec.average_size_bytes,
            "size_variation": self.spec.size_variation_bytes,
            "delay": self.spec.delay_us,
        }
