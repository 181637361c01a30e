"""``slow_close``: delay the close of every connection through a Toxiproxy proxy by ``delay_ms``.

Mechanism: Toxiproxy's ``slow_close`` toxic. Data flows normally; when one side closes (EOF on
the toxic's stream), the close is held back ``delay_ms`` before it is passed on.

What the client sees (``downstream``): the answer arrives on time, but the server's FIN arrives
``delay_ms`` late. A client that reads until EOF (HTTP/1.0, ``Connection: close``, streamed
bodies without a length) waits that long; a keep-alive client that reads ``Content-Length``
bytes does not notice. Sockets linger longer on both sides (more connections in flight, slower
release of pool slots and file descriptors), which is how a server that is slow to close shows
up in production.

Open connections: affected too (added to every live link).

Limits: only the close is delayed, never the data. On revert a close being held back is released
at once.
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.slow_close import SlowCloseSpec


@register
class SlowCloseFault(ToxicFault):
    """Toxiproxy ``slow_close`` toxic: attribute ``delay`` in ms."""

    spec_type = SlowCloseSpec
    toxic_type = "slow_close"
    spec: SlowCloseSpec

    def attributes(self) -> dict[str, int | float]:
        return {"delay": self.spec.delay_ms}
