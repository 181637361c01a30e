"""``fd_limit``: a replica's processes run out of file descriptors (EMFILE, "Too many open files").

Mechanism, for each victim: the soft ``RLIMIT_NOFILE`` of the container's processes (all of them
at inject time, or those whose command line matches ``process``) is lowered from the host with
``prlimit --pid PID --nofile=N:`` (util-linux), to ``max_open_files``, or by default so that
exactly ``spare_fds`` more descriptors can be opened (default 0: exhausted). The kernel hands
out the lowest free descriptor number and refuses (EMFILE) one that is not below the soft limit,
so that default limit is the lowest number not held steadily (open in each of 3 listings of
``/proc/<pid>/fd``, 0.2 s apart: a connection open for a moment would free its number again)
plus ``spare_fds``. Only the
soft limit changes: restoring it needs no privilege, whereas raising a lowered *hard* limit needs
CAP_SYS_RESOURCE, which a containerised root may lack. For the same reason ``prlimit`` runs with
the target process's uid and gid (the kernel lets a process with the same real/effective/saved ids
change another's limits), started by the harness with ``user=``/``group=`` (root on the host
needs CAP_SETUID/CAP_SETGID for that, not CAP_SYS_RESOURCE). No shell, a timeout on every call.

What a client sees: every ``socket()``, ``accept()`` or ``open()`` in the process fails with
EMFILE. For a server, the kernel still completes TCP handshakes into the listen backlog, but the
process cannot ``accept()`` them: a client's connect succeeds and its request then hangs with no
answer until its own timeout (asyncio logs "socket.accept() out of system resource ... [Errno 24]
Too many open files" and retries every second); outgoing connections the process needs (to a
database, another service) fail at once. Connections already open keep working (keep-alive
requests on them are served), so a load balancer that reuses connections may see only part of
the failure; its health check, on a new connection, times out and takes the replica out after
``fall`` checks. When the backlog is full, new SYNs are dropped (connect timeouts).

Effect evidence (how analysis knows the fault acted), read right before revert
(``effect_counters()``, summed over victims), for the processes it changed that still run:

- ``exhausted_processes``: processes that cannot open one more descriptor right now (the lowest
  free descriptor number, from ``/proc/<pid>/fd``, is not below their soft limit, from
  ``/proc/<pid>/limits``): their next ``accept()``/``socket()``/``open()`` fails with EMFILE. One
  proves the fault bites; with ``spare_fds`` or ``max_open_files`` above what the process uses it
  counts 0, and the window stays inconclusive (the limit was there but never reached);
- ``limited_processes``: processes whose soft limit is still the lowered one;
- ``pending_accepts``: connections the kernel completed that nobody has accepted yet, in the
  victims' network namespaces (the accept queues of the listening TCP sockets, ``rx_queue`` of
  the ``0A`` lines of ``/proc/<pid>/net/tcp`` and ``tcp6``): the EMFILE signature of a server that
  receives traffic (a snapshot, informative; a busy healthy server can have a few too).

Revert (idempotent): the old soft limit is written back on every process that is still the same
process (same PID and start time). Limits: processes started after inject (``docker exec``, new
workers from an unaffected parent) get the normal limit; a process may raise its own soft limit
again up to the hard limit (few do).
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import cgroup_pids, container_cgroup_dirs, container_main_pid, process_start_time
from harness.faults._effect import bounded_read
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas
from harness.scenario.faults.fd_limit import FdLimitSpec

PRLIMIT_TIMEOUT_S = 10
"""Timeout of each ``prlimit`` call."""


@dataclass
class _Changed:
    """One process whose soft limit was lowered (recorded before the change)."""

    pid: int
    start_time: int | None
    uid: int
    gid: int
    old_soft: str
    limit: int = 0  # the soft limit it got


@dataclass
class _Victim:
    name: str
    changed: list[_Changed] = field(default_factory=list)
    pid1: int = 0  # host PID of its PID 1 at inject (whose /proc/<pid>/net is its namespace)
    pid1_start: int | None = None


def _ids(pid: int) -> tuple[int, int]:
    """Real uid and gid of host PID ``pid`` (from ``/proc/<pid>/status``)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise EnvironmentFailure(f"cannot read /proc/{pid}/status: {exc.strerror or exc}") from None
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    try:
        return int(fields["Uid"].split()[0]), int(fields["Gid"].split()[0])
    except (KeyError, IndexError, ValueError):
        raise EnvironmentFailure(f"/proc/{pid}/status has no Uid/Gid") from None


FD_SAMPLES = 3
FD_SAMPLE_INTERVAL_S = 0.2
"""``steady_fds`` samples ``/proc/<pid>/fd`` this many times, this far apart."""


def steady_fds(pid: int, samples: int = FD_SAMPLES, interval_s: float = FD_SAMPLE_INTERVAL_S) -> set[int]:
    """Descriptor numbers open in every one of ``samples`` listings of ``/proc/<pid>/fd``
    (``interval_s`` apart): the long-lived ones, without a connection that happened to be open
    for a moment.

    Raises:
        OSError: the process is gone.
    """
    steady: set[int] | None = None
    for i in range(samples):
        if i:
            time.sleep(interval_s)
        now = {int(fd) for fd in os.listdir(f"/proc/{pid}/fd") if fd.isdigit()}
        steady = now if steady is None else steady & now
    return steady or set()


def lowest_free_fd(steady: set[int]) -> int:
    """The lowest descriptor number not in ``steady`` (the kernel hands out the lowest free one)."""
    n = 0
    while n in steady:
        n += 1
    return n


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def soft_nofile(pid: int) -> int | None:
    """Soft "Max open files" of host PID ``pid`` from ``/proc/<pid>/limits`` (no call into the
    process, no privilege needed); None when gone, unreadable or ``unlimited``."""
    try:
        lines = Path(f"/proc/{pid}/limits").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        if line.startswith("Max open files"):
            soft = line[len("Max open files"):].split()[:1]
            return int(soft[0]) if soft and soft[0].isdigit() else None
    return None


def open_fds(pid: int) -> set[int]:
    """Descriptor numbers open in host PID ``pid`` now (``/proc/<pid>/fd``); empty when gone."""
    try:
        return {int(fd) for fd in os.listdir(f"/proc/{pid}/fd") if fd.isdigit()}
    except OSError:
        return set()


TCP_LISTEN = "0A"
"""``st`` of a listening socket in ``/proc/net/tcp`` (the kernel's TCP_LISTEN, 10)."""


def accept_backlog(proc_net_tcp: str) -> int:
    """Connections waiting in the accept queues of the listening sockets of one ``/proc/net/tcp``
    (or ``tcp6``) listing: the ``rx_queue`` half (hex) of ``tx_queue:rx_queue`` of every line in
    state ``0A``, which the kernel sets to the socket's accept backlog for a listener. The header
    and malformed lines are skipped."""
    total = 0
    for line in proc_net_tcp.splitlines()[1:]:
        words = line.split()
        if len(words) > 4 and words[3] == TCP_LISTEN and ":" in words[4]:
            try:
                total += int(words[4].split(":", 1)[1], 16)
            except ValueError:
                continue
    return total


def pending_accepts(pid: int) -> int:
    """:func:`accept_backlog` of the TCP (v4 and v6) listeners in host PID ``pid``'s network
    namespace (``/proc/<pid>/net/tcp``, ``tcp6``); 0 for what is unreadable."""
    total = 0
    for name in ("tcp", "tcp6"):
        try:
            total += accept_backlog(Path(f"/proc/{pid}/net/{name}").read_text(encoding="ascii", errors="replace"))
        except OSError:
            continue
    return total


def prlimit_nofile(pid: int, uid: int, gid: int, soft: str | None = None) -> str:
    """Read (``soft`` None) or set the soft ``RLIMIT_NOFILE`` of host PID ``pid`` with util-linux
    ``prlimit``, run as ``uid``/``gid`` (the target's ids, see the module docstring). ``soft`` is a
    number or ``"unlimited"``. Returns the soft limit before the call, as prlimit prints it.

    Raises:
        EnvironmentFailure: prlimit is missing, timed out or failed (its message included).
    """
    def run(args: list[str]) -> str:
        try:
            proc = subprocess.run(["prlimit", "--pid", str(pid), *args], capture_output=True, text=True,
                                  timeout=PRLIMIT_TIMEOUT_S, stdin=subprocess.DEVNULL, user=uid, group=gid,
                                  extra_groups=[])
        except (OSError, subprocess.SubprocessError) as exc:
            raise EnvironmentFailure(f"prlimit for pid {pid} failed: {exc}") from None
        if proc.returncode != 0:
            raise EnvironmentFailure(f"prlimit for pid {pid} failed: {proc.stderr.strip()}")
        return proc.stdout

    old = run(["--nofile", "--raw", "--noheadings", "--output", "SOFT"]).strip()
    if soft is not None:
        run([f"--nofile={soft}:"])
    return old


@register
class FdLimitFault(Fault):
    """Lowers the soft open-files limit of each victim's processes."""

    spec_type = FdLimitSpec
    spec: FdLimitSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[_Victim] = []

    def _targets(self, victim: _Victim) -> list[int]:
        name = victim.name
        container = self.ctx.containers.container(name)
        pid = victim.pid1 = container_main_pid(container)
        victim.pid1_start = process_start_time(pid)
        group = container_cgroup_dirs(pid, container.id, ["memory"])["memory"]
        pids = cgroup_pids(group)
        if self.spec.process is not None:
            pattern = re.compile(self.spec.process)
            pids = [p for p in pids if pattern.search(_cmdline(p))]
        if not pids:
            raise EnvironmentFailure(f"fd_limit {self.spec.name}: no process of {name} matches {self.spec.process!r}")
        return pids

    def inject(self) -> list[str]:
        """Lower the limits; return, per victim, its container name (what analysis matches with
        the container's traffic), then ``<container>:pid=<pid>,nofile=<n>`` per process changed.

        Raises:
            EnvironmentFailure: no running replica, no matching process, or prlimit failed.
        """
        touched = []
        for name in choose_replicas(self, self.spec):
            victim = _Victim(name)
            self._victims.append(victim)
            touched.append(name)
            for pid in self._targets(victim):
                start_time = process_start_time(pid)
                try:
                    uid, gid = _ids(pid)
                    limit = self.spec.limit_for(lowest_free_fd(steady_fds(pid)))
                    old = prlimit_nofile(pid, uid, gid)
                    victim.changed.append(_Changed(pid, start_time, uid, gid, old, limit))
                    prlimit_nofile(pid, uid, gid, str(limit))
                except (OSError, EnvironmentFailure) as exc:
                    if start_time is None or process_start_time(pid) != start_time:
                        continue  # a short-lived process (e.g. a health check) exited meanwhile
                    if isinstance(exc, EnvironmentFailure):
                        raise
                    raise EnvironmentFailure(f"fd_limit {self.spec.name}: pid {pid} of {name}: "
                                             f"{exc.strerror or exc}") from None
                touched.append(f"{name}:pid={pid},nofile={limit}")
        return touched

    def effect_counters(self) -> dict[str, float]:
        """``exhausted_processes``, ``limited_processes`` and ``pending_accepts`` (counts; see
        the module docstring), over the processes changed at inject that still run (same PID and
        start time) and the victims whose PID 1 is the one of the inject; ``{}`` before inject.
        Never raises."""
        return bounded_read(self._measure, f"fd_limit {self.spec.name}")

    def _measure(self) -> dict[str, float]:
        victims = list(self._victims)
        if not victims:
            return {}
        limited = exhausted = pending = 0
        for victim in victims:
            for changed in list(victim.changed):
                if process_start_time(changed.pid) != changed.start_time:
                    continue  # exited since inject
                soft = soft_nofile(changed.pid)
                if soft is None or soft != changed.limit:
                    continue  # raised again by the process itself (or unreadable)
                limited += 1
                exhausted += lowest_free_fd(open_fds(changed.pid)) >= soft
            if victim.pid1 and process_start_time(victim.pid1) == victim.pid1_start:
                pending += pending_accepts(victim.pid1)
        return {"exhausted_processes": exhausted, "limited_processes": limited, "pending_accepts": pending}

    def revert(self) -> list[str]:
        """Restore every soft limit still in place; return the containers restored.

        Raises:
            EnvironmentFailure: prlimit failed on a process that still runs (after trying all).
        """
        touched, errors = [], []
        for victim in self._victims:
            for changed in victim.changed:
                if process_start_time(changed.pid) != changed.start_time:
                    continue  # gone (or a new process reusing the pid): nothing to restore
                try:
                    prlimit_nofile(changed.pid, changed.uid, changed.gid, changed.old_soft)
                except EnvironmentFailure as exc:
                    if process_start_time(changed.pid) == changed.start_time:
                        errors.append(str(exc))
            touched.append(victim.name)
        self._victims = []
        if errors:
            raise EnvironmentFailure(f"fd_limit {self.spec.name}: revert incomplete: {'; '.join(errors)}")
        return touched
