"""``stop``: ``docker stop`` ``count`` (or ``percent``) of a service's replicas: a service stopped.

Mechanism: ``docker stop -t timeout_s`` on each victim, all victims at once (one thread each):
the engine sends SIGTERM to the container's PID 1, waits up to ``timeout_s`` seconds for it to
exit, then sends SIGKILL. A well-behaved app drains and exits 0 (our api: ~0.2 s, exit 0); one
that ignores SIGTERM is killed after the grace period (exit 137). Inject returns once every victim
has exited, so it may take up to ``timeout_s``.

What a client sees: while the app drains, requests in flight may still complete; then the
container and its network address are gone: going by IP, a connect gets "no route to host" (ARP
fails, ~3 s) or times out; going by name, Docker's DNS stops resolving the name to it; a port
published on the host is refused. A load balancer takes the replica out after its check's
``fall`` count. Open connections are closed by the exiting process (or reset by the kernel).

Revert starts the stopped containers (our stacks have no restart policy; a ``docker stop`` is
never undone by one either). Limits: ``docker stop`` of a container that is already stopped is a
no-op, and it is still counted as touched.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from harness.faults.registry import register
from harness.faults.replica import ReplicaFault, choose_replicas
from harness.scenario.faults.stop import StopSpec


@register
class StopFault(ReplicaFault):
    """Stops the chosen replicas (concurrently); revert starts them."""

    spec_type = StopSpec
    spec: StopSpec

    def _stop(self, name: str) -> None:
        container = self.ctx.containers.container(name)
        self.ctx.containers.call(f"stop {name}", lambda: container.stop(timeout=self.spec.timeout_s))

    def inject(self) -> list[str]:
        """Stop every victim at once; return their names once all have exited.

        Raises:
            EnvironmentFailure: no running replica, or the engine failed to stop one (the others
                are still stopped, and revert starts all of them).
        """
        chosen = choose_replicas(self, self.spec)
        self.victims.extend(chosen)  # recorded before the stop, so a failed stop still reverts
        with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix=f"stop-{self.spec.name}") as pool:
            for future in [pool.submit(self._stop, name) for name in chosen]:
                future.result()
        return chosen
