"""``bandwidth``: squeeze the throughput of a Toxiproxy proxy down to ``rate_kbps``.

Mechanism: Toxiproxy's ``bandwidth`` toxic on the chosen stream(s). Each chunk of ``n`` bytes
waits ``n / rate`` ms (Toxiproxy's KB is 1000 bytes: ``rate`` 1 is one byte per millisecond);
chunks larger than ``rate * 100`` bytes are cut and sent in 100 ms slices.

What the client sees: every response (``downstream``) or request body (``upstream``) trickles in,
so transfer time grows with size: a ~300-byte catalog answer at 1 KB/s takes ~0.3 s instead of a
few ms. The connection stays open and the data stays correct; only timeouts on reads or on the
whole exchange turn it into errors. ``rate_kbps: 0`` stalls the stream completely (no byte passes
until revert; the connection is not closed).

Open connections: affected too (Toxiproxy adds the toxic to every live link). On revert the data
held back is flushed, not dropped.

Limits: this is a per-connection rate, not a shared link capacity: N connections each get
``rate_kbps``. Small requests/answers mostly see added latency proportional to their size.
``toxicity`` is rolled per connection.
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.bandwidth import BandwidthSpec


@register
class BandwidthFault(ToxicFault):
    """Toxiproxy ``bandwidth`` toxic: attribute ``rate`` in KB/s."""

    spec_type = BandwidthSpec
    toxic_type = "bandwidth"
    spec: BandwidthSpec

    def attributes(self) -> dict[str, int | float]:
        return {"rate": self.spec.rate_kbps}
