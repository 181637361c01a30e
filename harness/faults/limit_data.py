"""``limit_data``: close each connection through a Toxiproxy proxy after ``bytes`` bytes.

Mechanism: Toxiproxy's ``limit_data`` toxic on the chosen stream(s). It counts the bytes it
passes per connection; the chunk that crosses the limit is truncated to fit, and the connection
is closed once ``bytes`` bytes have gone through.

What the client sees (``downstream``): the first ``bytes`` bytes of the answer, then EOF: a
truncated response ("response ended prematurely", incomplete JSON, a body shorter than its
``Content-Length``), or, when the limit is below the headers' size, "server disconnected". On
``upstream`` the request is cut off and the server sees a truncated request. ``bytes: 0`` closes
each connection on its first data.

Open connections: the toxic reaches them too, with its own count starting at inject (bytes sent
before the inject do not count). A keep-alive connection is cut once its answers add up to
``bytes``.

Limits: the cut is a graceful close (FIN), not a reset. A connection already closed by the limit
stays closed after revert; new connections are normal.
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.limit_data import LimitDataSpec


@register
class LimitDataFault(ToxicFault):
    """Toxiproxy ``limit_data`` toxic: attribute ``bytes``."""

    spec_type = LimitDataSpec
    toxic_type = "limit_data"
    spec: LimitDataSpec

    def attributes(self) -> dict[str, int | float]:
        return {"bytes": self.spec.bytes}
