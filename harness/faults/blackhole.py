"""``blackhole``: a silent network partition in front of a dependency.

Mechanism: a Toxiproxy ``timeout`` toxic with timeout 0 on *both* streams of the proxy
(``harness-<fault>-upstream`` and ``-downstream``): every byte in either direction is dropped and
no connection is ever closed by Toxiproxy.

What the client sees: the TCP connect still succeeds (Toxiproxy's listener accepts it), there is
no refusal and no reset; the request goes nowhere (the dependency never sees it) and no answer
ever comes. Only the client's own timeouts end the wait. This is the failure that hurts clients
without timeouts most: a partitioned or wedged host behind an accepting socket (as opposed to
``down``, where the refusal is immediate).

Open connections: affected too (the toxics are added to every live link): pooled connections
go silent mid-stream. On revert Toxiproxy closes every connection the toxics were holding (the
timeout toxic's cleanup), so stuck clients see EOF and reconnect; new connections are normal.

Unlike ``timeout`` on the default ``downstream`` stream, this hangs even against a server that
closes after answering (HTTP/1.0, ``Connection: close``): the request never reaches it, so it never
answers or closes. Effect evidence: traffic crossed the proxy while the toxics were there
(``ProxyTraffic``).

Limits: a real partition also stops the TCP handshake (connect timeouts); through Toxiproxy the
handshake with the proxy still succeeds. ``toxicity`` < 1 blackholes that share of connections
(rolled per connection and stream). ``stream`` is fixed to ``both``. A close by either end still
passes through Toxiproxy (the dependency closing an idle connection, or the client giving up).
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.blackhole import BlackholeSpec


@register
class BlackholeFault(ToxicFault):
    """Two Toxiproxy ``timeout`` toxics (attribute ``timeout`` 0 ms: never close), one per stream."""

    spec_type = BlackholeSpec
    toxic_type = "timeout"
    spec: BlackholeSpec

    def attributes(self) -> dict[str, int | float]:
        return {"timeout": 0}
