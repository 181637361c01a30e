"""The run's containers, for the faults and the orchestrator: find them by the service name the
scenario uses, read them, and act on them (signal, start, run a host tool in their network
namespace). Every lookup is narrowed to this run's project and run-id labels, and every action
goes through :meth:`RunContainers.container`, the blast-radius guard: a container without this
run's label, or the harness's own Toxiproxy, is never touched.

The engine may be remote (:mod:`harness.environment.engine`): published ports are then dialled at
the engine's host (:attr:`RunContainers.address`), and a tool run in a container's network
namespace goes through a helper container on the engine (:mod:`harness.environment.netns`)
instead of ``nsenter`` here (:meth:`RunContainers.netns_exec`).

The stack's lifecycle (up, healthy, down) is :mod:`harness.environment.stack`.
"""

from __future__ import annotations

import subprocess
import threading
from typing import Any, Callable, TypeVar

import docker
import docker.errors
import requests

from harness.environment.engine import Engine, resolve_engine
from harness.environment.labels import PROJECT_LABEL, RUN_LABEL, SERVICE_KEY_LABEL
from harness.environment.netns import NETTOOLS_IMAGE, helper_run
from harness.environment.timing import DOCKER_TIMEOUT_S
from harness.errors import EnvironmentFailure
from harness.recorder import EventRecorder

SERVICE_LABEL = SERVICE_KEY_LABEL
"""Containers are looked up by the service name the scenario uses (see labels.py)."""

T = TypeVar("T")


def docker_client(engine: Engine | None = None) -> docker.DockerClient:
    """A Docker SDK client of ``engine`` (default: :func:`~harness.environment.engine.resolve_engine`,
    ``DOCKER_HOST`` or the current docker context) with a per-call timeout of
    :data:`DOCKER_TIMEOUT_S`, checked with a ping.

    Raises:
        EngineConfigError: ``DOCKER_HOST`` or the docker context is unusable (exit 2).
        EnvironmentFailure: the engine does not answer; the message names it and how to start one.
    """
    engine = engine or resolve_engine()
    try:
        client = engine.client(timeout=DOCKER_TIMEOUT_S)
        client.ping()
    except (docker.errors.DockerException, requests.RequestException) as exc:
        fix = "run `make setup` or start dockerd" if engine.local else "check that it is up and reachable from here"
        raise EnvironmentFailure(f"Docker engine {engine.describe()} not reachable ({exc}); {fix}") from None
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
        engine: the engine ``client`` talks to (default: a local one): says where published
            ports are dialled and how network namespaces are entered.
        journal: where :meth:`netns_exec` records, once per container, which way it entered
            its network namespace (``netns.path`` events); None records nothing.
    """

    def __init__(self, client: docker.DockerClient, project: str, run_id: str, toxiproxy_service: str,
                 allow_toxiproxy_faults: bool = False, engine: Engine | None = None,
                 journal: EventRecorder | None = None):
        self.docker = client
        self.project = project
        self.run_id = run_id
        self.toxiproxy_service = toxiproxy_service
        self.allow_toxiproxy_faults = allow_toxiproxy_faults
        self.engine = engine or Engine("unix:///var/run/docker.sock")
        self.journal = journal
        self._entered: set[tuple[str, str]] = set()
        self._entered_lock = threading.Lock()

    call = staticmethod(docker_call)

    def new_client(self, timeout: float, **extra: Any) -> Any:
        """Another ``docker.DockerClient`` for this run's engine (its own connection pool, for a
        thread of its own), per-call ``timeout`` in s, ``extra`` to the client; it speaks the API
        version already agreed with the engine, so making it costs no ``GET /version`` (8 ms on
        an idle engine here, 240 ms once seen while the engine started a run's stats streams).

        Raises:
            EngineConfigError: the engine's TLS files are unusable.
        """
        version = getattr(getattr(self.docker, "api", None), "api_version", None)
        return self.engine.client(timeout, **({"version": version} if isinstance(version, str) else {}), **extra)

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

    @property
    def address(self) -> str:
        """Where this machine dials the stack's published ports, as it goes into a URL:
        ``127.0.0.1`` for a local engine, the engine's host for a remote one (see engine.py)."""
        return self.engine.url_host

    def published_url(self, service: str, port: int, scheme: str = "http") -> str:
        """``scheme://<address>:<host port>`` of ``service``'s published container ``port``/tcp.

        Raises:
            EnvironmentFailure: as :meth:`published_port`.
        """
        return f"{scheme}://{self.address}:{self.published_port(service, port)}"

    def published_port(self, service: str, port: int) -> int:
        """The host port that ``service``'s container ``port``/tcp is published on (on loopback
        for a local engine; dial it at :attr:`address`).

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

    def netns_exec(self, name: str, argv: list[str], timeout_s: float = 10) -> str:
        """Run ``argv`` (a network tool, e.g. ``iptables ...``; no shell) in the container's
        network namespace and return its stdout: with ``nsenter`` on this machine for a local
        engine (:meth:`nsenter_net`), in a helper container of :data:`NETTOOLS_IMAGE` joined to
        the namespace for a remote one (:func:`~harness.environment.netns.helper_run`). The
        first use per container and way is journalled as ``netns.path`` (``container``, ``via``:
        ``nsenter`` or ``helper``, ``image``, ``engine``).

        Raises:
            EnvironmentFailure: refused by the guard, not running, non-zero exit or timeout.
        """
        via = "nsenter" if self.engine.local else "helper"
        if via == "nsenter":
            out = self.nsenter_net(name, argv, timeout_s)
        else:
            container = self.container(name)
            if container.status not in ("running", "paused"):
                raise EnvironmentFailure(f"{name} is not running (its network namespace is gone)")
            out = helper_run(self.docker, container.id, argv, self.run_id, timeout_s)
        self._note_path(name, via)
        return out

    def _note_path(self, name: str, via: str) -> None:
        with self._entered_lock:
            if (name, via) in self._entered:
                return
            self._entered.add((name, via))
        if self.journal is not None:
            try:
                self.journal.record("netns.path", container=name, via=via,
                                    image=NETTOOLS_IMAGE if via == "helper" else None, engine=self.engine.host)
            except ValueError:  # the journal is closed already (a revert during teardown)
                pass

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
