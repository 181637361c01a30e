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

from typing import Literal

from pydantic import Field

from harness.faults.base import NetworkFaultSpec
from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault


class SlowCloseSpec(NetworkFaultSpec):
    """Parameters: ``delay_ms`` (0..600000): how long each close is held back."""

    summary = ("Slow connection teardown: the peer's close (FIN) arrives delay_ms late; only clients that read until "
               "EOF wait (keep-alive clients reading Content-Length do not notice).")
    seed_section = "002 Production Failures, 6. Database Connection Pool Exhaustion"

    kind: Literal["slow_close"] = "slow_close"
    delay_ms: int = Field(ge=0, le=600_000, description="delay before a close is passed on, ms")


@register
class SlowCloseFault(ToxicFault):
    """Toxiproxy ``slow_close`` toxic: attribute ``delay`` in ms."""

    spec_type = SlowCloseSpec
    toxic_type = "slow_close"
    spec: SlowCloseSpec

    def attributes(self) -> dict[str, int | float]:
        return {"delay": self.spec.delay_ms}
