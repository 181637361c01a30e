"""What the engine's host lacks for a scenario's faults, found before anything starts.

Some fault kinds act from the Docker host, not through the engine's API: the iptables kinds
(``dns``, ``firewall``, ``node_loss``, ``partition``) enter a container's network namespace with
``nsenter -t PID -n iptables``; the resource kinds (``cpu``, ``disk_full``, ``fd_limit``,
``memory_leak``, ``oom``, ``process_kill``) put helper processes into its cgroup v1 directories
and signal its processes. Both need root on the engine's own host (a remote ``DOCKER_HOST`` has
its containers' PIDs on another machine). Each kind declares what it needs
(``FaultSpec.host_needs``); :func:`host_problems` says which of those this host lacks, one line
each with the fix, so that a run fails in its preflight (exit 2) instead of half-way through.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Callable, Iterable

from harness.scenario.faults import FaultSpec

REMOTE_SCHEMES = ("tcp://", "ssh://", "http://", "https://")
"""``DOCKER_HOST`` schemes of an engine on another machine."""


def _cgroup_v1(mountinfo: Path = Path("/proc/self/mountinfo")) -> bool:
    """True when the cgroup v1 memory, cpu and pids hierarchies are mounted (cgroup v2 alone
    has none of them)."""
    try:
        text = mountinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    options = {opt for line in text.splitlines() if " - cgroup " in line for opt in line.rsplit(" ", 1)[-1].split(",")}
    return {"memory", "pids", "cpu"} <= options


def missing_needs(needs: Iterable[str], *, euid: int | None = None, docker_host: str | None = None,
                  which: Callable[[str], str | None] = shutil.which,
                  cgroup_v1: Callable[[], bool] = _cgroup_v1) -> list[str]:
    """The ``needs`` this host does not meet, each as a short phrase with its fix.

    Args:
        needs: names from ``FaultSpec.host_needs``.
        euid / docker_host / which / cgroup_v1: the host's facts (default: this process's
            effective uid, ``$DOCKER_HOST``, ``shutil.which``, the mounted cgroup hierarchies);
            tests pass fakes.
    """
    euid = os.geteuid() if euid is None else euid
    docker_host = os.environ.get("DOCKER_HOST", "") if docker_host is None else docker_host
    out = []
    for need in dict.fromkeys(needs):
        if need == "root" and euid != 0:
            out.append("root on the Docker host (run the harness with sudo)")
        elif need == "local_engine" and docker_host.startswith(REMOTE_SCHEMES):
            out.append(f"a local Docker engine (DOCKER_HOST={docker_host} is on another machine, where the "
                       "containers' processes are)")
        elif need == "cgroup_v1" and not cgroup_v1():
            out.append("cgroup v1 memory, cpu and pids hierarchies (this host mounts none: a cgroup v2 host)")
        elif need not in ("root", "local_engine", "cgroup_v1") and which(need) is None:
            out.append(f"the {need!r} command on PATH (Debian: apt-get install "
                       f"{'util-linux' if need == 'nsenter' else need})")
    return out


def host_problems(faults: Iterable[FaultSpec], **facts) -> list[tuple[int, str]]:
    """``(fault index, message)`` for every fault whose kind needs what this host lacks.

    ``facts`` are passed to :func:`missing_needs` (tests only).
    """
    problems = []
    for i, fault in enumerate(faults):
        missing = missing_needs(type(fault).host_needs, **facts)
        if missing:
            problems.append((i, f"kind {fault.kind!r} acts from the Docker host and needs "
                             + "; ".join(missing)))
    return problems


__all__ = ["host_problems", "missing_needs"]
