"""``pause``: freeze ``count`` (or ``percent``) of a service's replicas: "SSH works but the app is
not responding".

Mechanism: ``docker pause``, i.e. the cgroup freezer (cgroup v1 ``freezer.state=FROZEN``): every
process of the container is stopped where it is; nothing of it runs, but its network namespace,
its address and its listening sockets stay in the kernel. ``State.Paused`` is true.

What a client sees: the host is reachable and a TCP connect to the port *succeeds* (the kernel
completes the handshake and queues the connection in the listen backlog), but no byte ever comes
back: requests time out. That is the nastiest kind of dead server, since nothing is refused or
reset: every caller waits for its own timeout. Already-open connections stall the same way (data
is acknowledged by the kernel and buffered, never read). A load balancer's active check times out
(``timeout check``), so the replica is taken out only after ``fall`` x (check timeout + interval);
requests already sent to it wait for the balancer's server timeout or the client's.

Once the backlog is full, new SYNs are dropped and connects time out too. Docker's own health
check cannot run in a frozen container; its status is left as it was. Revert unpauses: queued
connections are then served (their clients may be long gone).

Limit: with cgroup v1, freezing races with processes being created in the container (a health
check's ``docker exec`` every few seconds): runc then thaws and reports "unable to freeze"
(opencontainers/runc#2774, #2791: "still a game of chances"). Inject retries such a failure up to
``PAUSE_ATTEMPTS`` times, ``PAUSE_RETRY_S`` apart, before it gives up with an EnvironmentFailure.
"""

from __future__ import annotations

import time

from harness.errors import EnvironmentFailure
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas, container_state
from harness.scenario.faults.pause import PauseSpec

PAUSE_ATTEMPTS = 5
"""Attempts at freezing a container when runc reports "unable to freeze" (a race with an exec)."""

PAUSE_RETRY_S = 0.3
"""Seconds between two such attempts."""


@register
class PauseFault(Fault):
    """Pauses the chosen replicas; revert unpauses those still paused."""

    spec_type = PauseSpec
    spec: PauseSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[str] = []

    def inject(self) -> list[str]:
        """Pause every victim; return their names.

        Raises:
            EnvironmentFailure: no running replica, or the engine failed to pause one.
        """
        chosen = choose_replicas(self, self.spec)
        for name in chosen:
            self._victims.append(name)  # recorded before the pause, so a failed pause still reverts
            self._pause(name)
        return chosen

    def _pause(self, name: str) -> None:
        container = self.ctx.containers.container(name)
        for attempt in range(1, PAUSE_ATTEMPTS + 1):
            try:
                self.ctx.containers.call(f"pause {name}", container.pause)
                return
            except EnvironmentFailure as exc:
                if "unable to freeze" not in str(exc) or attempt == PAUSE_ATTEMPTS:
                    raise
                time.sleep(PAUSE_RETRY_S)

    def revert(self) -> list[str]:
        """Unpause the victims that are paused; return those unpaused ([] when none)."""
        unpaused = []
        for name in list(self._victims):
            if container_state(self, name).get("Paused"):
                container = self.ctx.containers.container(name)
                self.ctx.containers.call(f"unpause {name}", container.unpause)
                unpaused.append(name)
            self._victims.remove(name)
        return unpaused
