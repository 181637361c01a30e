"""``timeout``: swallow every byte through a Toxiproxy proxy, then close the connection.

Mechanism: Toxiproxy's ``timeout`` toxic on the chosen stream(s). Data on that stream is dropped;
the connection is closed once no data has arrived for ``timeout_ms`` (the timer restarts with
every chunk it drops, and starts when the toxic reaches the connection). ``timeout_ms: 0`` never
closes: data is dropped for as long as the toxic exists. A close from the far end still passes
through (a server that closes after answering, e.g. ``Connection: close``, closes the client's
connection at once, without the answer).

What the client sees: the TCP connect succeeds, the request is sent (``downstream``: the server
even handles it), and no answer comes; after ``timeout_ms`` the connection is closed with an
empty read (EOF; "server disconnected" / "empty reply" to an HTTP client). With 0 it just hangs,
so only the client's own read timeout ends it: a dependency that accepts and never answers.

Open connections: affected too (Toxiproxy adds the toxic to every live link). On revert
Toxiproxy closes the connections the toxic was holding (its cleanup), so stuck clients see EOF
rather than a late, half-lost answer; new connections are normal.

Limits: data dropped while the toxic exists is lost, not delayed. ``toxicity`` is rolled per
connection.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from harness.faults.base import NetworkFaultSpec
from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault


class TimeoutSpec(NetworkFaultSpec):
    """Parameters: ``timeout_ms`` (0..600000): idle time after which the connection is closed;
    0 = never close, drop data until revert."""

    summary = "Dependency hang: connections are accepted but nothing comes back, then they close (or never do)."
    seed_section = "002 Production Failures, 2. No Timeouts"

    kind: Literal["timeout"] = "timeout"
    timeout_ms: int = Field(ge=0, le=600_000,
                            description="close the connection after this long without data, ms; 0 = never")


@register
class TimeoutFault(ToxicFault):
    """Toxiproxy ``timeout`` toxic: attribute ``timeout`` in ms."""

    spec_type = TimeoutSpec
    toxic_type = "timeout"
    spec: TimeoutSpec

    def attributes(self) -> dict[str, int | float]:
        return {"timeout": self.spec.timeout_ms}
