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

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.slicer import SlicerSpec


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
