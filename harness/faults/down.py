"""``down``: take a dependency off the network: its Toxiproxy proxy stops listening.

Mechanism: the proxy is disabled through Toxiproxy's API (``enabled: false``), which closes its
listening socket and every connection through it; revert enables it again.

What the client sees: new connections are refused at once (``ECONNREFUSED``, Python's
``ConnectionRefusedError``: the port is closed, like a service that is not running or a firewall
that rejects); connections open at inject are closed (an empty read or a reset, depending on
where the client was). After revert new connections succeed again.

Open connections: all closed at inject; none survive the revert either.

Compared with real failures: this is a crashed *process* on a live host (the kernel answers the
SYN with a RST), which clients detect at once. A crashed or unplugged *host* or container answers
nothing: connects time out (``node_loss``, ``partition``, ``kill`` of the container), which is
slower and harsher for clients without connect timeouts.

Effect evidence: the proxy carried traffic in the seconds before the inject (``ProxyPathLive``):
nothing can cross a disabled proxy, so the fault's own window cannot show it.

Limits: this acts on the proxy, not on the dependency's container (which keeps running and stays
reachable for anyone who bypasses the proxy). Overlapping ``down`` faults on the same proxy of
the same run are counted: the proxy comes back when the last one is reverted. Another network
fault with ``reset_connections: true`` on the same proxy re-enables it (that option is a
disable+enable), so do not overlap the two.
"""

from __future__ import annotations

import weakref

from harness.faults.base import Fault
from harness.faults.context import FaultContext
from harness.faults.registry import register
from harness.scenario.faults.down import DownSpec
from harness.toxiproxy.client import ToxiproxyClient

_HOLDERS: "weakref.WeakKeyDictionary[ToxiproxyClient, dict[str, set[int]]]" = weakref.WeakKeyDictionary()
"""Per Toxiproxy client (one per run), per proxy: ids of the ``down`` faults holding it down."""


@register
class DownFault(Fault):
    """Disables the proxy at inject, enables it at revert (when no other ``down`` holds it)."""

    spec_type = DownSpec
    spec: DownSpec

    def __init__(self, spec: DownSpec, ctx: FaultContext) -> None:
        super().__init__(spec, ctx)
        self._holding = False

    def _holders(self) -> set[int]:
        """Ids of the ``down`` faults currently holding this run's proxy down (shared, mutable)."""
        return _HOLDERS.setdefault(self.ctx.toxiproxy, {}).setdefault(self.spec.proxy, set())

    def inject(self) -> list[str]:
        """Disable the proxy; returns ``[proxy]``.

        Raises:
            EnvironmentFailure: Toxiproxy failed or does not know the proxy.
        """
        self._holding = True  # recorded first: a failed disable is still reverted
        self._holders().add(id(self))
        self.ctx.toxiproxy.set_enabled(self.spec.proxy, False)
        return [self.spec.proxy]

    def revert(self) -> list[str]:
        """Re-enable the proxy unless another ``down`` fault still holds it; returns ``[proxy]``
        when it was re-enabled, ``[]`` when there was nothing to undo (never injected, already
        reverted, still held by another fault, or the proxy no longer exists).

        Raises:
            EnvironmentFailure: Toxiproxy failed (the fault stays held, so a retry can revert).
        """
        if not self._holding:
            return []
        holders = self._holders()
        if holders - {id(self)}:
            holders.discard(id(self))
            self._holding = False
            return []
        if self.spec.proxy not in self.ctx.toxiproxy.proxies():
            holders.discard(id(self))
            self._holding = False
            return []
        self.ctx.toxiproxy.set_enabled(self.spec.proxy, True)
        holders.discard(id(self))
        self._holding = False
        return [self.spec.proxy]
