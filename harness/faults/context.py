"""What a fault may touch: :class:`FaultContext` (the run's Toxiproxy, its containers, a seeded
RNG and the cleanup ledger), and :class:`ContainerActions`, the few container actions a fault
needs, as a protocol: faults depend on it, not on the stack's lifecycle. The run passes the
stack's :class:`harness.environment.containers.RunContainers`; unit tests pass a fake.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, TypeVar

if TYPE_CHECKING:
    from harness.environment.ledger import Ledger
    from harness.toxiproxy.client import ToxiproxyClient

T = TypeVar("T")


class ContainerActions(Protocol):
    """The container actions faults use, every one narrowed to the run's own containers (the
    blast-radius guard: a container without the run's label, or the harness's own Toxiproxy, is
    refused with :class:`harness.errors.EnvironmentFailure`). Names are Docker container names;
    services are the scenario's service names.
    """

    run_id: str
    """The run's id (faults name their iptables rules and helpers after it)."""

    def services(self) -> list[str]:
        """Services of the run that have containers, sorted."""

    def running_containers(self, service: str) -> list[str]:
        """Names of the running containers of ``service``."""

    def containers_of(self, service: str) -> list[str]:
        """Names of every container of ``service``, running or not, sorted."""

    def container(self, name: str) -> Any:
        """The Docker SDK container ``name``, fresh from the engine, through the guard."""

    def pid(self, name: str) -> int:
        """Host PID of the container's main process (raises when it is not running)."""

    def ips(self, name: str) -> list[str]:
        """The container's IPv4 addresses, sorted."""

    def nsenter_net(self, name: str, argv: list[str], timeout_s: float = 10) -> str:
        """Run a host binary in the container's network namespace; its stdout."""

    def netns_exec(self, name: str, argv: list[str], timeout_s: float = 10) -> str:
        """Run a network tool (``iptables ...``) in the container's network namespace, by the
        way the engine allows (``nsenter`` here for a local engine, a helper container on a
        remote one); its stdout."""

    def kill(self, name: str, signal: str) -> None:
        """Send ``signal`` (a name, e.g. ``SIGKILL``) to the container's PID 1."""

    def start(self, name: str) -> bool:
        """Start the container if it is not running; False when it was already running."""

    def call(self, what: str, action: Callable[[], T]) -> T:
        """Run a Docker SDK call, turning its errors into ``EnvironmentFailure`` naming ``what``."""


@dataclass
class FaultContext:
    """What a fault may touch: the run's Toxiproxy, the run's containers, and a seeded RNG.

    ``rng`` is seeded from the scenario seed and the fault's name, so the same seed picks the same
    victims whatever the order of faults. ``ledger``: a fault that creates something outside the
    run's containers (a host process, a toxic in an external Toxiproxy) records its undo there
    *before* creating it (see :mod:`harness.environment.ledger`).
    """

    toxiproxy: ToxiproxyClient
    containers: ContainerActions
    rng: random.Random = field(default_factory=random.Random)
    ledger: Ledger | None = None


__all__ = ["ContainerActions", "FaultContext"]
