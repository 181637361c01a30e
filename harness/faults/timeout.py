"""``timeout``: swallow the data on a stream of a Toxiproxy proxy, then close the connection.

Mechanism: Toxiproxy's ``timeout`` toxic on the chosen stream(s). Data on that stream is dropped;
the connection is closed once no data has arrived for ``timeout_ms`` (the timer restarts with
every chunk it drops, and starts when the toxic reaches the connection). ``timeout_ms: 0`` never
closes: data is dropped for as long as the toxic exists. A close from the far end is *not*
swallowed: the toxic passes the EOF on at once (Toxiproxy's ``TimeoutToxic.Pipe`` closes its
output when its input ends).

What the client sees depends on the server, because of that last point:

- a server that keeps the connection open after answering (HTTP/1.1 keep-alive): the request
  is sent (``downstream``: the server even handles it), no answer comes, and after ``timeout_ms``
  the connection is closed with an empty read (EOF: "server disconnected" / "empty reply"); with
  0 it just hangs until the client's own read timeout;
- a server that answers and closes (HTTP/1.0, ``Connection: close``, gunicorn sync workers, most
  one-shot protocols): the answer is dropped but the server's close comes straight through, so
  the client gets an *immediate empty reply* (EOF within milliseconds), not a hang, whatever
  ``timeout_ms`` is. An expectation such as "the client's read timeout bounds every request" then
  holds trivially: the fault never made anything wait. For a real hang use ``blackhole`` (both
  streams dropped, the server never sees the request, so it never answers or closes), or this
  kind with ``stream: upstream`` (the request is swallowed; EOF after ``timeout_ms``).

Open connections: affected too (Toxiproxy adds the toxic to every live link). On revert
Toxiproxy closes the connections the toxic was holding (its cleanup), so stuck clients see EOF
rather than a late, half-lost answer; new connections are normal.

Effect evidence: traffic crossed the proxy while the toxic was there (``ProxyTraffic``). That
proves bytes were swallowed, not that a client waited: see the case above.

Limits: data dropped while the toxic exists is lost, not delayed. ``toxicity`` is rolled per
connection.
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.toxic_fault import ToxicFault
from harness.scenario.faults.timeout import TimeoutSpec


@register
class TimeoutFault(ToxicFault):
    """Toxiproxy ``timeout`` toxic: attribute ``timeout`` in ms."""

    spec_type = TimeoutSpec
    toxic_type = "timeout"
    spec: TimeoutSpec

    def attributes(self) -> dict[str, int | float]:
        return {"timeout": self.spec.timeout_ms}
