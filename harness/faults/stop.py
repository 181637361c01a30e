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
from typing import ClassVar, Literal

from pydantic import Field

from harness.faults.base import ContainerEvents, EffectRule, Fault
from harness.faults.kill import ReplicaFaultSpec, choose_replicas
from harness.faults.registry import register


class StopSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica) and ``timeout_s``,
    the grace period between SIGTERM and SIGKILL (``docker stop -t``)."""

    summary = "Service stopped: replicas shut down (SIGTERM, then SIGKILL after a grace period) and stay down."
    seed_section = "000 How Servers Fail, 4. Scenario 1: SSH Works but App Not Responding (Possible Causes: Service stopped)"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ContainerEvents(("die",)),)

    kind: Literal["stop"] = "stop"
    timeout_s: int = Field(default=10, ge=0, le=300,
                           description="grace period between SIGTERM and SIGKILL, s (docker stop -t)")


@register
class StopFault(Fault):
    """Stops the chosen replicas (concurrently); revert starts them."""

    spec_type = StopSpec
    spec: StopSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[str] = []

    def _stop(self, name: str) -> None:
        container = self.ctx.stack.container(name)
        self.ctx.stack.call(f"stop {name}", lambda: container.stop(timeout=self.spec.timeout_s))

    def inject(self) -> list[str]:
        """Stop every victim at once; return their names once all have exited.

        Raises:
            EnvironmentFailure: no running replica, or the engine failed to stop one (the others
                are still stopped, and revert starts all of them).
        """
        chosen = choose_replicas(self, self.spec)
        self._victims.extend(chosen)  # recorded before the stop, so a failed stop still reverts
        with ThreadPoolExecutor(max_workers=len(chosen), thread_name_prefix=f"stop-{self.spec.name}") as pool:
            for future in [pool.submit(self._stop, name) for name in chosen]:
                future.result()
        return chosen

    def revert(self) -> list[str]:
        """Start the victims that are not running; return those started ([] when none)."""
        started = []
        for name in list(self._victims):
            if self.ctx.stack.start(name):
                started.append(name)
            self._victims.remove(name)
        return started
