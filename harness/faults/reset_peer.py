"""``reset_peer``: reset (TCP RST) connections through a Toxiproxy proxy.

Mechanism: Toxiproxy's ``reset_peer`` toxic on the chosen stream(s). When the first chunk of data
reaches the toxic on a connection, Toxiproxy waits ``timeout_ms`` and closes both sockets; for
connections *opened after the toxic exists* it has set ``SO_LINGER`` 0 on them beforehand, so
that close is a TCP RST and unsent data is discarded.

What the client sees: the connect succeeds, the request is sent, and then ``ECONNRESET``
("connection reset by peer", Python's ``ConnectionResetError``) instead of an answer, right away
or ``timeout_ms`` after it started talking. With ``toxicity`` < 1 only that share of connections
is reset (rolled per connection): a flaky network or a peer that crashes mid-request.

Open connections: Toxiproxy only arranges the RST at connection setup, so a connection that was
already open when the toxic was added is closed *gracefully* (FIN: an empty read, "server
disconnected") on its next data, not reset. Set ``reset_connections: true`` to drop every open
connection at inject, so pooled keep-alive clients reconnect and get real resets.

Limits: a connection that never sends data on the toxic's stream is never reset. On revert new
connections are normal; connections opened while the toxic existed keep ``SO_LINGER`` 0 (their
eventual close is a RST) but are otherwise unaffected.
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.reset_peer import ResetPeerSpec


@register
class ResetPeerFault(ToxicFault):
    """Toxiproxy ``reset_peer`` toxic: attribute ``timeout`` in ms."""

    spec_type = ResetPeerSpec
    toxic_type = "reset_peer"
    spec: ResetPeerSpec

    def attributes(self) -> dict[str, int | float]:
        return {"timeout": self.spec.timeout_ms}
