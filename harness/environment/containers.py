"""The run's containers, for the faults and the orchestrator: find them by the service name the
scenario uses, read them, and act on them (signal, start, run a host tool in their network
namespace). Every lookup is narrowed to this run's project and run-id labels, and every action
goes through :meth:`RunContainers.container`, the blast-radius guard: a container without this
run's label, or the harness's own Toxiproxy, is never touched.

The stack's lifecycle (up, healthy, down) is :mod:`harness.environment.stack`.
"""

from __future__ import annotations

import subprocess
from typing import Any, Callable, TypeVar

import docker
import docker.errors
import requests

from harness.environment.labels import PROJECT_LABEL, RUN_LABEL, SERVICE_KEY_LABEL
from harness.environment.timing import DOCKER_TIMEOUT_S
from harness.errors import EnvironmentFailure

SERVICE_LABEL = SERVICE_KEY_LABEL
"""Containers are looked up by the service name the scenario uses (see labels.py)."""

T = TypeVar("T")


def docker_client() -> docker.DockerClient:
    """A Docker SDK client with a per-call timeout of :data:`DOCKER_TIMEOUT_S`.

    Raises:
        EnvironmentFailure: the engine does not answer; the message says how to start one.
    """
    try:
        client = docker.from_env(timeout=DOCKER_TIMEOUT_S)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise EnvironmentFailure(f"Docker engine not reachable ({exc}); run `make setup` or start dockerd") from None
    return client


def docker_call(what: str, action: Callable[[], T]) -> T:
    """Run ``action()`` (a Docker SDK call) and return its result.

    Raises:
        EnvironmentFailure: the SDK or the engine failed ("docker: <what> failed: ...").
    """
    try:
        return action()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        raise EnvironmentFailure(f"docker: {what} failed: {exc}") from None


class RunContainers:
    """The containers of one run's compose project.

    Args:
        client: a Docker SDK client (:func:`docker_client`).
        project: the compose project name (``harness-<run id>``).
        run_id: the run's id, carried by every object as ``harness.run-id``.
        toxiproxy_service: the service running the harness's Toxiproxy, which faults may not
            touch unless ``allow_toxiproxy_faults``.
    """

    def __init__(self, client: docker.DockerClient, project: str, run_id: str, toxiproxy_service: str,
                 allow_toxiproxy_faults: bool = False):
        self.docker = client
        self.project = project
        self.run_id = run_id
        self.toxiproxy_service = toxiproxy_service
        self.allow_toxiproxy_faults = allow_toxiproxy_faults

    call = staticmethod(docker_call)

    def listing(self, service: str | None = None, all: bool = False) -> list[Any]:
        """The Docker SDK containers of this run (of ``service`` only, when given); running ones
        only unless ``all``.

        Raises:
            EnvironmentFailure: the engine failed.
        """
        filters = {"label": [f"{PROJECT_LABEL}={self.project}", f"{RUN_LABEL}={self.run_id}"]}
        if service:
            filters["label"].append(f"{SERVICE_LABEL}={service}")
        return docker_call("listing containers", lambda: self.docker.containers.list(all=all, filters=filters))

    def services(self) -> list[str]:
        """Names of the project's services that have containers, sorted."""
        return sorted({c.labels.get(SERVICE_LABEL, "") for c in self.listing(all=True)} - {""})

    def running_containers(self, service: str) -> list[str]:
        """Names of the running containers of ``service``."""
        return [c.name for c in self.listing(service) if c.status == "running"]

    def containers_of(self, service: str) -> list[str]:
        """Names of every container of ``service`` (running or not), sorted."""
        return sorted(c.name for c in self.listing(service, all=True))

    def published_port(self, service: str, port: int) -> int:
        """The loopback host port that ``service``'s container ``port``/tcp is published on.

        Raises:
            EnvironmentFailure: the service has no container, or the port is not published.
        """
        for c in self.listing(service):
            bindings = (c.attrs.get("NetworkSettings", {}).get("Ports") or {}).get(f"{port}/tcp") or []
            for binding in bindings:
                if binding.get("HostPort"):
                    return int(binding["HostPort"])
        raise EnvironmentFailure(f"service {service!r} does not publish port {port} (add ports: ['127.0.0.1::{port}'])")

    def inspect(self, name: str) -> Any:
        """The Docker SDK container ``name`` for reading only, if it carries this run's label.

        Raises:
            EnvironmentFailure: not found, or not labelled ``harness.run-id=<this run>``.
        """
        container = docker_call(f"inspect {name}", lambda: self.docker.containers.get(name))
        if container.labels.get(RUN_LABEL) != self.run_id:
            raise EnvironmentFailure(f"refusing to touch {name}: it does not carry {RUN_LABEL}={self.run_id}")
        return container

    def container(self, name: str) -> Any:
        """The Docker SDK container ``name``, fresh from the engine, *only if* it carries this
        run's label and is not the harness's own Toxiproxy (unless the scenario allows it): the
        blast-radius guard every container fault goes through.

        Raises:
            EnvironmentFailure: not found, not labelled ``harness.run-id=<this run>``, or the
                protected Toxiproxy.
        """
        container = self.inspect(name)
        service = container.labels.get(SERVICE_LABEL)
        if service == self.toxiproxy_service and not self.allow_toxiproxy_faults:
            raise EnvironmentFailure(f"refusing to touch {name}: {service} is the harness's Toxiproxy "
                                     "(set target.allow_toxiproxy_faults: true to target it)")
        return container

    def pid(self, name: str) -> int:
        """Host PID of the container's main process (for nsenter, prlimit, /proc).

        Raises:
            EnvironmentFailure: the container is not running, or is refused by the guard.
        """
        pid = int(self.container(name).attrs.get("State", {}).get("Pid") or 0)
        if pid <= 0:
            raise EnvironmentFailure(f"{name} is not running (no pid)")
        return pid

    def ips(self, name: str) -> list[str]:
        """IPv4 addresses of the container on its networks, sorted."""
        networks = self.inspect(name).attrs.get("NetworkSettings", {}).get("Networks") or {}
        return sorted(n["IPAddress"] for n in networks.values() if n.get("IPAddress"))

    def nsenter_net(self, name: str, argv: list[str], timeout_s: float = 10) -> str:
        """Run ``argv`` (a host binary, e.g. ``iptables``) inside the container's network
        namespace via ``nsenter -t PID -n``; return stdout. No shell is involved.

        Raises:
            EnvironmentFailure: non-zero exit or timeout (with stderr).
        """
        cmd = ["nsenter", "-t", str(self.pid(name)), "-n", *argv]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EnvironmentFailure(f"{' '.join(argv[:2])} in {name}'s network namespace failed: {exc}") from None
        if proc.returncode != 0:
            raise EnvironmentFailure(f"{' '.join(argv)} in {name}'s network namespace failed: {proc.stderr.strip()}")
        return proc.stdout

    def kill(self, name: str, signal: str) -> None:
        """Send ``signal`` (e.g. ``SIGKILL``) to a container of this run (never to any other).

        Raises:
            EnvironmentFailure: refused by the guard, or the engine failed.
        """
        container = self.container(name)
        docker_call(f"kill {name}", lambda: container.kill(signal=signal))

    def start(self, name: str) -> bool:
        """Start a stopped container of this run; return False if it was already running.

        Raises:
            EnvironmentFailure: refused by the guard, or the engine failed.
        """
        container = self.container(name)
        if container.status == "running":
            return False
        docker_call(f"start {name}", container.start)
        return True

    def image_ids(self) -> dict[str, str]:
        """Service -> image id of its containers (the environment fingerprint)."""
        return {c.labels.get(SERVICE_LABEL, c.name): c.attrs.get("Image", "") for c in self.listing(all=True)}


__all__ = ["SERVICE_LABEL", "RunContainers", "docker_call", "docker_client"]
