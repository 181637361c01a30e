"""What the engine's host lacks for a scenario's faults, found before anything starts.

Some fault kinds act below the engine's API, and each declares what that takes
(``FaultSpec.host_needs``):

- ``netns``, the iptables kinds (``dns``, ``firewall``, ``node_loss``, ``partition``): run
  ``iptables`` in a container's network namespace. With a local engine that is ``nsenter -t PID
  -n iptables`` here (root, ``nsenter``, ``iptables``); with a remote engine (``DOCKER_HOST=tcp://``
  or ``ssh://``, or such a docker context) it is a helper container on the engine, ``--network
  container:<id> --cap-add NET_ADMIN harness/nettools:0.1`` (:mod:`harness.environment.netns`),
  which needs nothing of this machine;
- ``root``, ``local_engine``, ``cgroup_v1``, the resource kinds (``cpu``, ``disk_full``,
  ``fd_limit``, ``memory_leak``, ``oom``, ``process_kill``): they work on the containers'
  processes, cgroup v1 directories and ``/proc`` from the engine's own host, which no engine API
  call or helper container gives (:data:`LOCAL_ONLY_WHY` says why, kind by kind), so they need
  the harness to run as root on the engine's host.

:func:`host_problems` says which of those this host lacks, one line each with the fix, so that a
run fails in its preflight (exit 2) instead of half-way through.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

from harness.environment.engine import Engine, parse_host, resolve_engine
from harness.scenario.faults import FaultSpec

NETNS_LOCAL_NEEDS = ("root", "nsenter", "iptables")
"""What the ``netns`` need takes with a local engine (``nsenter -t PID -n iptables`` here)."""

LOCAL_ONLY_WHY = {
    "cpu": "its helper processes join the container's cgroup v1 cpu directories, and a throttle writes its quota there",
    "disk_full": "it fills the container's file system through /proc/<pid>/root on the engine's host",
    "fd_limit": "it lowers the processes' open-file limit with prlimit on their host PIDs",
    "memory_leak": "its helper process joins the container's cgroup v1 memory directory",
    "oom": "it lowers the memory cgroup's limit and fills it with a helper process in that cgroup",
    "process_kill": "it signals the app's processes by their host PIDs, checked through /proc/<pid>/cgroup",
}
"""Why each resource kind needs the harness on the engine's own host (no engine API call or
helper container does the same)."""


def _cgroup_v1(mountinfo: Path = Path("/proc/self/mountinfo")) -> bool:
    """True when the cgroup v1 memory, cpu and pids hierarchies are mounted (cgroup v2 alone
    has none of them)."""
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    options = {opt for line in text.splitlines() if " - cgroup " in line for opt in line.rsplit(" ", 1)[-1].split(",")}
    return {"memory", "pids", "cpu"} <= options


def _engine_of(docker_host: str | None, engine: Engine | None) -> Engine:
    if engine is not None:
        return engine
    if docker_host is None:
        return resolve_engine()
    return Engine(parse_host(docker_host), "DOCKER_HOST") if docker_host.strip() else Engine("unix:///var/run/docker.sock")


def missing_needs(needs: Iterable[str], *, euid: int | None = None, docker_host: str | None = None,
                  which: Callable[[str], str | None] = shutil.which,
                  cgroup_v1: Callable[[], bool] = _cgroup_v1, engine: Engine | None = None,
                  kind: str | None = None) -> list[str]:
    """The ``needs`` this host does not meet, each as a short phrase with its fix.

    Args:
        needs: names from ``FaultSpec.host_needs`` (``netns`` is expanded to root, ``nsenter``
            and ``iptables`` with a local engine, and to nothing with a remote one).
        euid / which / cgroup_v1: the host's facts (default: this process's effective uid,
            ``shutil.which``, the mounted cgroup hierarchies); tests pass fakes.
        engine: the engine (default: ``docker_host`` when given, e.g. ``"ssh://ops@far"``, ``""``
            for the local socket; else :func:`~harness.environment.engine.resolve_engine`).
        kind: the fault kind, to say why it needs a local engine (:data:`LOCAL_ONLY_WHY`).

    Raises:
        EngineConfigError: ``DOCKER_HOST`` or the docker context is unusable (one line, exit 2).
    """
    euid = os.geteuid() if euid is None else euid
    eng = _engine_of(docker_host, engine)
    expanded: list[str] = []
    for need in needs:
        expanded += (NETNS_LOCAL_NEEDS if eng.local else ()) if need == "netns" else (need,)
    out = []
    for need in dict.fromkeys(expanded):
        if need == "root" and euid != 0:
            out.append("root on the Docker host (run the harness with sudo)")
        elif need == "local_engine" and not eng.local:
            why = LOCAL_ONLY_WHY.get(kind or "", "it acts on the containers' processes from the engine's host")
            out.append(f"a local Docker engine: {why}, and the engine {eng.host} ({eng.source}) is on another "
                       "machine (run the harness on the engine's host, or drop this fault)")
        elif need == "cgroup_v1" and not cgroup_v1():
            out.append("cgroup v1 memory, cpu and pids hierarchies (this host mounts none: a cgroup v2 host)")
        elif need not in ("root", "local_engine", "cgroup_v1") and which(need) is None:
            out.append(f"the {need!r} command on PATH (Debian: apt-get install "
                       f"{'util-linux' if need == 'nsenter' else need})")
    if not eng.local and "local_engine" in expanded:
        # this machine's root and cgroups are beside the point when the engine is elsewhere
        out = [m for m in out if m.startswith("a local Docker engine")]
    return out


def host_problems(faults: Iterable[FaultSpec], **facts) -> list[tuple[int, str]]:
    """``(fault index, message)`` for every fault whose kind needs what this host lacks, e.g.
    ``(2, "kind 'oom' acts from the Docker host and needs a local Docker engine: ...")``.

    ``facts`` are passed to :func:`missing_needs` (tests only). The engine is resolved once.

    Raises:
        EngineConfigError: ``DOCKER_HOST`` or the docker context is unusable (one line, exit 2).
    """
    if facts.get("engine") is None:
        facts["engine"] = _engine_of(facts.pop("docker_host", None), None)
    facts.pop("docker_host", None)
    problems = []
    for i, fault in enumerate(faults):
        missing = missing_needs(type(fault).host_needs, kind=fault.kind, **facts)
        if missing:
            problems.append((i, f"kind {fault.kind!r} acts from the Docker host and needs "
                             + "; ".join(missing)))
    return problems


__all__ = ["LOCAL_ONLY_WHY", "host_problems", "missing_needs"]
