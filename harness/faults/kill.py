"""``kill``: send a signal to ``count`` (or ``percent``) of a compose service's running replicas.

Mechanism: ``docker kill --signal`` on each victim (``RunContainers.kill``), i.e. the engine signals the
container's PID 1. With SIGKILL (the default) the process dies at once, with no graceful
shutdown: the container exits with code 137.

What a client sees: requests in flight on the victim end with a connection reset or an empty
response; new connections to its address fail (Docker removes the address, so "no route to host"
or a connect timeout when going by IP; the name stops resolving to it through Docker's DNS). A
load balancer in front sees L4 check failures and takes the replica out after its ``fall`` count.
Open connections are lost (the process is gone). Other signals are delivered to PID 1 as-is: a
PID 1 without a handler for SIGTERM/SIGINT/SIGHUP ignores them (the kernel protects a namespace's
init), so those may change nothing; the fault still reports the container it signalled.

Victims are chosen by the fault's seeded RNG from the running replicas sorted by name, so a seed
picks the same replicas every time. Revert starts the killed containers again (our stacks run
without a restart policy; with one, Docker may have restarted them already, which revert
tolerates).

What every "N replicas of a service" kind shares is in :mod:`harness.faults.replica` (the
injectors) and :mod:`harness.scenario.faults.replica` (the spec).
"""

from __future__ import annotations

from harness.faults.registry import register
from harness.faults.replica import ReplicaFault, choose_replicas
from harness.scenario.faults.kill import KillSpec


@register
class KillFault(ReplicaFault):
    """Kills the chosen replicas with ``signal``; revert starts them again."""

    spec_type = KillSpec
    spec: KillSpec

    def inject(self) -> list[str]:
        """Signal each victim; return their names.

        Raises:
            EnvironmentFailure: no running replica, or the engine refused the kill.
        """
        chosen = choose_replicas(self, self.spec)
        for name in chosen:
            self.victims.append(name)  # recorded before the kill, so a failed kill still reverts
            self.ctx.containers.kill(name, self.spec.signal)
        return chosen
