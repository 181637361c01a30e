"""The target stack's lifecycle: one compose project per run, every object labelled with the run id.

This is the only module that changes Docker objects' lifecycle. Labelling works by resolving the
user's compose file (``compose config --format json``), adding ``harness.run-id=<id>`` to every
service, network and volume, and bringing up that resolved copy, which is kept in the run
directory as a record of exactly what ran.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

import docker
import docker.errors
import requests

from harness.environment.compose import Compose
from harness.environment.containers import RunContainers, docker_client
from harness.environment.engine import Engine, resolve_engine
from harness.environment.labels import RUN_LABEL
from harness.environment.ledger import Ledger
from harness.environment.project import CopyOptions, EdgePlan, edges_of, make_copy
from harness.environment.timing import MIN_UP_S, PULL_TIMEOUT_S, up_for_s
from harness.errors import EnvironmentFailure
from harness.recorder import EventRecorder
from harness.scenario.models import Target


def compose_env(target: Target) -> dict[str, str]:
    """Variables for compose interpolation: the scenario's ``env`` plus ``HARNESS_PROFILE``."""
    return dict(target.env) | ({"HARNESS_PROFILE": target.profile} if target.profile else {})


def compose_services(target: Target, base_dir: Path) -> list[str]:
    """Service names of the target's compose file, in the file's order; changes nothing.

    Raises:
        EnvironmentFailure: the file is missing or compose rejects it.
    """
    return list(resolve_compose(target, base_dir).get("services") or {})


def copy_options(target: Target, project: str, run_id: str, edges: tuple[Any, ...],
                 publish: tuple[str, int] | None, edges_config: Path, engine: Engine | None = None) -> CopyOptions:
    """The :class:`CopyOptions` for a target's run copy on ``engine`` (default: the one
    :func:`~harness.environment.engine.resolve_engine` finds), which says where ports are bound.

    Raises:
        EngineConfigError: ``DOCKER_HOST``, the docker context or ``HARNESS_PUBLISH_IP`` is unusable.
    """
    engine = engine or resolve_engine()
    return CopyOptions(project=project, run_id=run_id, loopback_only=not target.publish_all_interfaces,
                       publish_ip=engine.publish_ip,
                       edges=edges, toxiproxy_service=target.toxiproxy_service, toxiproxy_image=target.toxiproxy_image,
                       toxiproxy_port=target.toxiproxy_port, edges_config=edges_config, publish=publish)


def project_name(run_id: str) -> str:
    """The compose project of the run ``run_id``: ``harness-<run id>``, lower case (compose's rule)."""
    return f"harness-{run_id}".lower()


def resolve_compose(target: Target, base_dir: Path, project: str = "harness-preflight") -> dict[str, Any]:
    """The target's compose file as compose resolves it (``config --format json``) under the
    compose project name ``project`` (it prefixes network and volume names); changes nothing
    and needs no Docker engine.

    Raises:
        EnvironmentFailure: the file is missing or compose rejects it.
    """
    file = (base_dir / target.compose).resolve()
    if not file.is_file():
        raise EnvironmentFailure(f"compose file not found: {file}")
    with tempfile.TemporaryDirectory() as tmp:
        compose = Compose(project, file, compose_env(target), Path(tmp) / "compose.log")
        return json.loads(compose.run(["config", "--format", "json"], timeout_s=60))


class Stack:
    """A running compose project for one run.

    Args:
        target: the scenario's target section.
        base_dir: directory the compose path is relative to (the scenario's).
        run_id: the run's id; the project is ``harness-<run_id>``.
        run_dir: where compose's log and a (redacted) copy of the resolved compose file go.
        journal: every lifecycle step is journalled.
        redact: masks secrets in what is written to the run directory.
        ledger: the run's cleanup ledger (the project is written to it before ``up``).
        proxies: the scenario's proxies; the edges among them (no ``listen``) insert Toxiproxy
            into the run's copy of the project (``harness.environment.edges``).
        publish: ``(service, port)`` the load host dials, published on loopback if the file
            does not publish it.
        resolved: the file as compose resolved it under this run's project name already (the
            run's preflight, :func:`harness.run.preflight.check_services`): :meth:`resolve`
            returns a copy of it instead of running ``compose config`` again (~0.1 s). Ignored
            when it names another project. Compose then ran without the engine's variables
            (``DOCKER_HOST``...), which matters only to a file that interpolates them.

    The resolved file compose really runs holds interpolated values, secrets included, so it
    lives in a private temporary file (mode 600) that :meth:`down` deletes.
    """

    def __init__(self, target: Target, base_dir: Path, run_id: str, run_dir: Path, journal: EventRecorder,
                 redact: Callable[[str], str] = lambda text: text, ledger: Ledger | None = None,
                 proxies: tuple[Any, ...] = (), publish: tuple[str, int] | None = None,
                 resolved: dict[str, Any] | None = None):
        self.target = target
        self.edges = edges_of(proxies)
        self.publish = publish
        self.edges_config = run_dir / "toxiproxy-edges.json"
        self.edge_plan: EdgePlan | None = None
        self.run_id = run_id
        self.project = project_name(run_id)
        self._resolved = resolved if resolved is not None and resolved.get("name") == self.project else None
        self.source_file = (base_dir / target.compose).resolve()
        self.record_file = run_dir / "compose.resolved.json"
        self.resolved_file: Path | None = None
        self.redact = redact
        self.ledger = ledger
        self.journal = journal
        self.engine = resolve_engine()
        """The engine the stack runs on (engine.py): where ports are bound and dialled."""
        self.compose = Compose(self.project, None, compose_env(target) | self.engine.compose_env(),
                               run_dir / "compose.log", redact)
        self.docker = docker_client(self.engine)
        self.containers = RunContainers(self.docker, self.project, run_id, target.toxiproxy_service,
                                        target.allow_toxiproxy_faults, engine=self.engine, journal=journal)
        """The container-action API of this run (what faults and the orchestrator act through)."""
        self.started = False

    # -- lifecycle -------------------------------------------------------------------------

    def resolve(self) -> dict[str, Any]:
        """The compose file as compose resolves it (``config --format json``), changing nothing.

        Raises:
            EnvironmentFailure: the compose file is missing or invalid.
        """
        if not self.source_file.is_file():
            raise EnvironmentFailure(f"compose file not found: {self.source_file}")
        if self._resolved is not None:
            return copy.deepcopy(self._resolved)
        return json.loads(self.compose.run(["config", "--format", "json"], timeout_s=60, file=self.source_file))

    def copy_options(self) -> CopyOptions:
        """How this run's copy of the compose project is made (see project.py)."""
        return copy_options(self.target, self.project, self.run_id, self.edges, self.publish, self.edges_config,
                            self.engine)

    def up(self) -> None:
        """Label and start the resolved stack (``up -d``; health is awaited separately).

        Raises:
            EnvironmentFailure: the compose file is missing or invalid, or ``up`` failed.
        """
        self.journal.record("stack.engine", host=self.engine.host, source=self.engine.source, local=self.engine.local,
                            publish_ip=self.engine.publish_ip, address=self.engine.address,
                            netns="nsenter" if self.engine.local else "helper", note=self.engine.exposure_note())
        config, self.edge_plan = make_copy(self.resolve(), self.copy_options())
        if self.edge_plan is not None:
            self.edges_config.write_text(json.dumps(self.edge_plan.proxies, indent=2))
            self.journal.record("stack.edges", toxiproxy=self.edge_plan.service, moved=self.edge_plan.moved,
                                renamed=self.edge_plan.renamed, upstreams=self.edge_plan.upstreams)
        text = json.dumps(config, indent=2)
        fd, name = tempfile.mkstemp(prefix=f"{self.project}-", suffix=".compose.json")
        with os.fdopen(fd, "w") as private:
            private.write(text)
        self.resolved_file = Path(name)
        self.record_file.write_text(self.redact(text))
        self._pull_missing(config)
        if self.ledger is not None:
            self.ledger.record("compose_down", project=self.project)
        self.compose.file = self.resolved_file
        self.journal.record("stack.up", project=self.project, compose_file=str(self.source_file))
        self.started = True
        self.compose.run(["up", "-d", "--remove-orphans"], timeout_s=300)

    def _pull_missing(self, config: dict[str, Any]) -> None:
        """Pull the images that are not on this machine and have no ``build:`` section, before
        anything is created (``compose pull SERVICE...``, at most PULL_TIMEOUT_S).

        Raises:
            EnvironmentFailure: one line naming the image, its service and the fix (build it,
                ``docker load`` it, or give the service a ``build:``); nothing was started.
        """
        missing: dict[str, str] = {}
        for service, body in (config.get("services") or {}).items():
            image = body.get("image")
            if image and not body.get("build") and not self._image_present(image):
                missing[service] = image
        if not missing:
            return
        self.journal.record("stack.pull", images=missing)
        try:
            self.compose.run(["pull", "--quiet", *sorted(missing)], timeout_s=PULL_TIMEOUT_S, file=self.resolved_file)
        except EnvironmentFailure as exc:
            named = ", ".join(f"{image} (service {service})" for service, image in sorted(missing.items()))
            raise EnvironmentFailure(f"image {named} is not on this machine and cannot be pulled ({exc}); build it, "
                                     "`docker load` it, or give the service a build: section") from None

    def _image_present(self, image: str) -> bool:
        try:
            self.docker.images.get(image)
        except docker.errors.ImageNotFound:
            return False
        except (docker.errors.DockerException, requests.RequestException):
            return True  # cannot tell: compose's own pull decides
        return True

    def wait_healthy(self, timeout_s: float, poll_s: float = 0.25) -> None:
        """Wait until every container runs and every container with a health check is healthy
        (one without a health check must have been running for MIN_UP_S). A container that
        exited with code 0 is a one-shot job (an init or migration step) and counts as done;
        one that exited otherwise keeps the stack pending.

        Raises:
            EnvironmentFailure: the deadline passed; the message names the services not ready
                and the last health-check output.
        """
        deadline = time.monotonic() + timeout_s
        pending: dict[str, str] | None = {}
        changes = ContainerChanges(self.docker, self.run_id)
        try:
            while time.monotonic() < deadline:
                changes.clear()
                pending = self._readiness()
                if pending is None:
                    return
                changes.wait(max(0.0, min(poll_s, deadline - time.monotonic())))
        finally:
            changes.close()
        detail = "; ".join(f"{name} ({why})" for name, why in sorted((pending or {}).items())) or "no containers"
        raise EnvironmentFailure(f"stack not healthy after {timeout_s:.0f} s: {detail}")

    def _readiness(self) -> dict[str, str] | None:
        """One look at the run's containers for :meth:`wait_healthy`: the containers not ready
        yet, each with why; None once the stack is ready (``stack.healthy`` is then journalled,
        with the one-shot jobs that finished)."""
        pending: dict[str, str] = {}
        completed: set[str] = set()
        containers = self.containers.listing(all=True)
        for c in containers:
            state = c.attrs.get("State", {})
            health = (state.get("Health") or {}).get("Status")
            if state.get("Status") == "exited" and state.get("ExitCode") == 0:
                completed.add(c.name)  # a one-shot job (init, migration) that finished
            elif state.get("Status") != "running":
                pending[c.name] = f"state {state.get('Status')}, exit code {state.get('ExitCode')}"
            elif health is None and up_for_s(state.get("StartedAt", "")) < MIN_UP_S:
                pending[c.name] = "just started"
            elif health not in (None, "healthy"):
                logs = (state.get("Health") or {}).get("Log") or [{}]
                pending[c.name] = f"health {health}: {str(logs[-1].get('Output', '')).strip()[:120]}"
        if containers and not pending:
            self.journal.record("stack.healthy", containers=sorted(c.name for c in containers),
                                completed=sorted(completed))
            return None
        return pending

    def down(self, fast: bool = False) -> list[str]:
        """Remove the project and anything else labelled with this run's id; idempotent.

        ``fast`` skips ``compose down`` (graceful stops) and force-removes by label at once.
        Returns the names of objects removed by the label sweep (normally none: compose removes
        them). Never raises: teardown errors are journalled instead.
        """
        if self.started and not fast:
            try:
                self.compose.run(["down", "-v", "--remove-orphans", "-t", "3"], timeout_s=120)
            except EnvironmentFailure as exc:
                self.journal.record("stack.down_error", error=str(exc))
        swept = sweep(self.docker, self.run_id)
        self.journal.record("stack.down", project=self.project, swept=swept, fast=fast)
        self.started = False
        if self.resolved_file is not None:
            self.resolved_file.unlink(missing_ok=True)
        return swept


class ContainerChanges:
    """Wakes :meth:`Stack.wait_healthy` as soon as the engine reports a start, an exit or a
    health status of one of the run's containers (Docker events), so that the wait sees the
    stack ready then rather than at its next poll. Only a hint: without the event stream (an
    engine or client that cannot give it), :meth:`wait` simply times out, which is polling.
    The stream is opened in its own thread: an engine that hangs cannot hold the wait there
    (the SDK opens an event stream without a timeout), the wait's own deadline still rules."""

    WAKE_ON = ("start", "die", "health_status")
    """The container actions that wake the wait (``health_status`` matches ``health_status: healthy``...)."""

    def __init__(self, client: Any, run_id: str):
        self._changed = threading.Event()
        self._lock = threading.Lock()
        self._stream: Any = None
        self._closed = False
        threading.Thread(target=self._read, args=(client, run_id), name="health-wake", daemon=True).start()

    def _read(self, client: Any, run_id: str) -> None:
        """Open the event stream, then set the wake-up on every event until it ends or is closed."""
        try:
            stream = client.events(decode=True, filters={"type": "container", "event": list(self.WAKE_ON),
                                                         "label": f"{RUN_LABEL}={run_id}"})
            with self._lock:
                if self._closed:
                    stream.close()
                    return
                self._stream = stream
            for _ in stream:
                self._changed.set()
        except Exception:  # noqa: BLE001 - no stream (plain polling), or close() closed it
            pass

    def clear(self) -> None:
        """Forget the changes seen so far (call before looking at the containers)."""
        self._changed.clear()

    def wait(self, timeout_s: float) -> None:
        """Return at the next change, or after ``timeout_s``."""
        self._changed.wait(timeout_s)

    def close(self) -> None:
        """Close the event stream (or have it closed as soon as it opens); never raises."""
        with self._lock:
            self._closed = True
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except Exception:  # noqa: BLE001 - closing a half-read HTTP stream may raise anything
                pass


def sweep(client: docker.DockerClient, run_id: str | None = None) -> list[str]:
    """Force-remove containers, then networks and volumes, labelled ``harness.run-id`` (this run's
    id, or every run's when ``run_id`` is None). Returns what was removed; errors are skipped
    so that a sweep always gets as far as it can."""
    label = f"{RUN_LABEL}={run_id}" if run_id else RUN_LABEL
    removed: list[str] = []
    for kind in ("containers", "networks", "volumes"):
        collection = getattr(client, kind)
        try:
            objects = collection.list(all=True, filters={"label": label}) if kind == "containers" else collection.list(
                filters={"label": label}
            )
        except (docker.errors.DockerException, requests.RequestException):
            continue
        for obj in objects:
            try:
                obj.remove(force=True) if kind != "networks" else obj.remove()
                removed.append(f"{kind[:-1]}:{obj.name}")
            except (docker.errors.DockerException, requests.RequestException):
                pass
    return removed
