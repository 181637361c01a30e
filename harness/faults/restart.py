"""``restart``: a rolling restart of ``count`` (or ``percent``) of a service's replicas.

Mechanism: ``docker restart -t timeout_s`` on one victim at a time (SIGTERM to PID 1, SIGKILL
after ``timeout_s`` seconds, then start the same container again: same name, same address most of
the time, a new ``State.StartedAt``). Before the next victim, inject waits until the restarted one
is ready again, as a rolling deployment does: Docker health ``healthy`` when the container has a
health check, otherwise running for ``MIN_UP_S`` seconds; at most ``ready_timeout_s``.

What a client sees: each victim goes through a graceful shutdown (requests in flight may finish,
new connections are refused or go unanswered while it is down, a load balancer takes it out after
its ``fall`` count) and comes back a few seconds later; process state (caches, pooled connections,
a circuit breaker's state) starts from scratch. Open connections to the victim are closed.

Inject returns when the last victim has been restarted (it does not wait for that last one to
be ready; recovery is what the scenario measures). Revert makes sure every victim runs (starts any
that a failed restart left stopped); it restarts nothing that runs.

Limits: inject blocks the timeline for the whole rollout (per victim: up to ``timeout_s`` for the
stop plus up to ``ready_timeout_s`` for readiness). A victim that does not become ready halts the
rollout with an EnvironmentFailure (the rollout could not be performed as specified), like a
deployment tool that stops on a failed readiness check.
"""

from __future__ import annotations

import time

from harness.environment.timing import MIN_UP_S, up_for_s
from harness.errors import EnvironmentFailure
from harness.faults.registry import register
from harness.faults.replica import ReplicaFault, choose_replicas, container_state
from harness.scenario.faults.restart import RestartSpec

READY_POLL_S = 0.5
"""Seconds between two looks at a restarted victim's health during a rollout."""


@register
class RestartFault(ReplicaFault):
    """Restarts the chosen replicas one after the other; revert makes sure they all run."""

    spec_type = RestartSpec
    spec: RestartSpec

    def _wait_ready(self, name: str) -> None:
        deadline = time.monotonic() + self.spec.ready_timeout_s
        while True:
            state = container_state(self, name)
            health = (state.get("Health") or {}).get("Status")
            if state.get("Running") and (health == "healthy" or (
                    health is None and up_for_s(state.get("StartedAt", "")) >= MIN_UP_S)):
                return
            if time.monotonic() >= deadline:
                raise EnvironmentFailure(
                    f"restart {self.spec.name}: {name} not ready {self.spec.ready_timeout_s:g} s after its restart "
                    f"(status {state.get('Status')}, health {health}); rollout halted")
            time.sleep(READY_POLL_S)

    def inject(self) -> list[str]:
        """Restart the victims one at a time, waiting for each to be ready before the next.

        Raises:
            EnvironmentFailure: no running replica, the engine failed a restart, or a victim was
                not ready within ``ready_timeout_s`` (the rest are left alone).
        """
        chosen = choose_replicas(self, self.spec)
        self.victims.extend(chosen)  # recorded first: revert starts any left stopped
        for i, name in enumerate(chosen):
            container = self.ctx.containers.container(name)
            self.ctx.containers.call(f"restart {name}", lambda: container.restart(timeout=self.spec.timeout_s))
            if i < len(chosen) - 1:
                self._wait_ready(name)
        return chosen
