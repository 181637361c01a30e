"""``process_kill``: the application process dies but its container stays up: "ping works but the
port is closed" / "service not listening".

Mechanism: for each victim the host lists the container's processes with their host PIDs
(``docker top -o pid,ppid,args``, the engine's view of the container's cgroup), picks the app's
processes, and signals them from the host (``pidfd_open`` + ``pidfd_send_signal``, after checking
through ``/proc/<pid>/cgroup`` that the PID still belongs to that container, so a recycled PID is
never hit). PID 1 of the container is never signalled, so the container, its network namespace
and its address stay up. Which processes are "the app":

- ``process`` given: every process except PID 1 whose command line (``docker top``'s ``args``)
  matches that regular expression (``re.search``);
- otherwise: the direct children of PID 1.

What a client sees: the address answers (ping works, the container is ``running``), but a TCP
connect to the app's port is *refused* at once (RST: nothing listens). Open connections are reset
or closed by the kernel when the process dies (SIGKILL, the default) or drained by the app
(SIGTERM). Docker's health check fails (unhealthy after its retries) and a load balancer's check
takes the replica out after its ``fall`` count; nothing restarts the app by itself (a real
supervisor might; ours deliberately does not).

Requirement on the user's stack: PID 1 must not be the app itself but something that stays alive
when the app dies: a shell or supervisor that starts the app as a child and then waits (our
sample ``api`` runs ``sh -c 'python3 -m shop.api & ...; wait; ...; sleep'``, see
docker-compose.yml). ``tini``/``docker --init`` do not qualify: they exit with their child, so the
container would stop (that is the ``kill`` fault). When no process matches, inject fails with an
EnvironmentFailure that says so. The harness must run as root (or as the app's user) to signal it.

Effect evidence (how analysis knows the fault acted), read right before revert
(``effect_counters()``, summed over victims): ``signalled_processes``, the processes the signal
reached, and ``killed_processes``, those of them that are gone (no such PID any more, a later
process with another start time, or a zombie). One gone process proves the app died; a process
that survived its signal (SIGTERM handled without exiting, SIGHUP reloading) is not counted, and
the window stays inconclusive unless another one died. Nothing Docker reports shows it (the
container keeps running).

Revert brings the app back by restarting each victim's container (``docker restart -t
restart_timeout_s``): the supervisor does not restart the app itself.
"""

from __future__ import annotations

import os
import re
import signal as signals
from typing import Any

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import process_gone, process_start_time
from harness.faults._effect import bounded_read
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas
from harness.scenario.faults.process_kill import ProcessKillSpec


def _processes(container: Any) -> list[tuple[int, int, str]]:
    """``(host pid, host ppid, command line)`` of every process of ``container`` (``docker top``)."""
    top = container.top(ps_args="-o pid,ppid,args")
    titles = [t.upper() for t in top.get("Titles") or []]
    try:
        i_pid, i_ppid = titles.index("PID"), titles.index("PPID")
        i_args = next(i for i, t in enumerate(titles) if t in ("COMMAND", "ARGS", "CMD"))
    except (ValueError, StopIteration):
        raise EnvironmentFailure(f"docker top {container.name}: unexpected columns {titles}") from None
    return [(int(p[i_pid]), int(p[i_ppid]), p[i_args]) for p in top.get("Processes") or []]


def signal_in_container(pid: int, container_id: str, signum: int) -> bool:
    """Send ``signum`` to host PID ``pid`` if it still belongs to the container ``container_id``.

    The process is pinned with a pidfd first, then its cgroup is checked, so the signal can only
    reach that very process. Returns False when the process is already gone.

    Raises:
        EnvironmentFailure: the PID now belongs to another cgroup, or signalling is not permitted.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError as exc:
        raise EnvironmentFailure(f"pidfd_open({pid}) failed: {exc}") from None
    try:
        try:
            with open(f"/proc/{pid}/cgroup", encoding="ascii", errors="replace") as f:
                cgroup = f.read()
        except FileNotFoundError:
            return False
        if container_id not in cgroup:
            raise EnvironmentFailure(f"pid {pid} no longer belongs to container {container_id[:12]}; not signalled")
        try:
            signals.pidfd_send_signal(fd, signum)
        except ProcessLookupError:
            return False
        except OSError as exc:
            raise EnvironmentFailure(f"signalling pid {pid} failed: {exc} (the harness must run as root)") from None
        return True
    finally:
        os.close(fd)


@register
class ProcessKillFault(Fault):
    """Signals the app's processes inside the chosen replicas; revert restarts those containers."""

    spec_type = ProcessKillSpec
    spec: ProcessKillSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[str] = []
        self._signalled: list[tuple[int, int | None]] = []  # (host pid, start time) the signal reached

    def app_pids(self, name: str) -> list[int]:
        """Host PIDs of the app's processes in container ``name`` (see the module docstring).

        Raises:
            EnvironmentFailure: the container is not running, or no process matches (PID 1 is the
                app itself, or ``process`` matches nothing).
        """
        container = self.ctx.containers.container(name)
        init = int((container.attrs.get("State") or {}).get("Pid") or 0)
        if init <= 0:
            raise EnvironmentFailure(f"process_kill {self.spec.name}: {name} is not running")
        procs = self.ctx.containers.call(f"top {name}", lambda: _processes(container))
        if self.spec.process is not None:
            pattern = re.compile(self.spec.process)
            pids = [pid for pid, _, args in procs if pid != init and pattern.search(args)]
            wanted = f"matching {self.spec.process!r}"
        else:
            pids = [pid for pid, ppid, _ in procs if ppid == init and pid != init]
            wanted = "under PID 1"
        if not pids:
            raise EnvironmentFailure(
                f"process_kill {self.spec.name}: no process {wanted} in {name} (PID 1 never counts; "
                f"the container needs a supervisor as PID 1 that outlives the app)")
        return sorted(pids)

    def inject(self) -> list[str]:
        """Signal the app's processes in each victim; return the victims.

        Raises:
            EnvironmentFailure: no running replica, no app process found, or signalling failed.
        """
        signum = signals.Signals[self.spec.signal]
        chosen = choose_replicas(self, self.spec)
        targets = {name: self.app_pids(name) for name in chosen}  # all found before any is signalled
        for name, pids in targets.items():
            self._victims.append(name)  # recorded before the signal, so a failed one still reverts
            container_id = self.ctx.containers.container(name).id
            for pid in pids:
                start_time = process_start_time(pid)  # before the signal: the process it reaches
                if signal_in_container(pid, container_id, signum) and start_time is not None:
                    self._signalled.append((pid, start_time))
        return chosen

    def effect_counters(self) -> dict[str, float]:
        """``signalled_processes`` (the signal reached them) and ``killed_processes`` (of those,
        the ones gone now: see :func:`process_gone`), counts; ``{}`` before any signal.
        Never raises."""
        return bounded_read(self._measure, f"process_kill {self.spec.name}")

    def _measure(self) -> dict[str, float]:
        signalled = list(self._signalled)
        if not signalled:
            return {}
        killed = sum(process_gone(pid, start) for pid, start in signalled)
        return {"signalled_processes": len(signalled), "killed_processes": killed}

    def revert(self) -> list[str]:
        """Restart every victim's container (the app comes back); return them ([] when none)."""
        restarted = []
        for name in list(self._victims):
            container = self.ctx.containers.container(name)
            self.ctx.containers.call(f"restart {name}", lambda: container.restart(timeout=self.spec.restart_timeout_s))
            restarted.append(name)
            self._victims.remove(name)
        self._signalled = []
        return restarted
