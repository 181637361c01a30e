"""``oom``: a replica runs out of memory and the kernel's OOM killer kills it (``OOMKilled``).

Mechanism, for each victim (cgroup v1, as root on the Docker host; see ``_cgroup``):

1. the memory limit of the container's memory cgroup (``memory.limit_in_bytes``, and
   ``memory.memsw.limit_in_bytes`` when swap accounting exists) is lowered to ``limit_mib`` if the
   container has no limit or a larger one; the write goes straight to the cgroup, not through
   ``docker update``, so the container's configuration is untouched (``docker update`` cannot
   remove a limit again once set) and a restart gets the configured limits back. It is never set
   below the current usage + 8 MiB (the kernel would refuse it rather than OOM);
2. the container's PID 1 gets ``oom_score_adj`` 1000, so the OOM killer picks it first and the
   whole container dies (with a supervisor as PID 1, killing only the biggest process could leave
   the container up with the app dead: that is ``process_kill``'s failure, not this one);
3. a host helper process joins the container's memory cgroup and writes into an in-memory file
   (a memfd) as fast as it can, until the cgroup hits its limit and the kernel OOM-kills PID 1.
   That memory is charged to the container but is in no process's RSS, and PID 1's badness
   (its RSS + the whole limit, from the score adjustment) exceeds the helper's own RSS, so the
   helper is not the one picked. (Lowering the helper's own score would need CAP_SYS_RESOURCE,
   which a containerised root may lack.) Once the cgroup's ``oom_kill`` count rises the helper
   stops writing (so the kernel does not invoke the OOM killer again and again while the
   container exits); it sees PID 1 exit and exits too, freeing the memory;
4. inject waits (up to ``kill_timeout_s``) until the engine reports the container stopped, and
   reports ``<container>:OOMKilled`` in what it touched when ``State.OOMKilled`` is true.

What a client sees: the replica vanishes as with a SIGKILL: requests in flight on it get a reset
or an empty response, new connections fail; a load balancer in front takes it out after its
health check's ``fall`` count. ``docker inspect`` shows ``OOMKilled: true`` and exit code 137.
Open connections to the victim are lost.

Revert (idempotent, safe after a partial inject): stop the helper, restore the old memory limit
and ``oom_score_adj`` if the same container process still runs (an inject that failed halfway),
and start the container again if it is not running. Limits: one OOM per occurrence (the container
stays down until revert: our stacks have no restart policy); needs cgroup v1 and root.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import (
    MIB,
    Helper,
    HelperConfig,
    container_cgroup_dirs,
    container_main_pid,
    make_oom_victim,
    process_start_time,
    read_cgroup_int,
    restore_oom_score,
    write_cgroup,
)
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas
from harness.scenario.faults.oom import OomSpec

HEADROOM_BYTES = 8 * MIB
"""The imposed limit is never below current usage plus this (a lower write is refused)."""


@dataclass
class _Victim:
    """What inject changed on one container (recorded before each change)."""

    name: str
    pid: int = 0
    start_time: int | None = None
    memory_dir: Path | None = None
    old_limits: list[tuple[Path, int]] = field(default_factory=list)  # in the order they were lowered
    old_adj: str | None = None
    helper: Helper | None = None


@register
class OomFault(Fault):
    """Fills each victim's memory cgroup up to its (imposed) limit so the OOM killer kills it."""

    spec_type = OomSpec
    spec: OomSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[_Victim] = []

    def inject(self) -> list[str]:
        """OOM-kill each victim; return ``[name, name + ":OOMKilled", ...]``.

        Raises:
            EnvironmentFailure: no running replica; a cgroup or /proc write was refused; the
                helper could not start; the container was not stopped within ``kill_timeout_s``;
                or it stopped without ``OOMKilled`` (something else killed it).
        """
        touched: list[str] = []
        for name in choose_replicas(self, self.spec):
            victim = _Victim(name)
            self._victims.append(victim)
            self._fill(victim)
            touched.append(name)
        for victim in self._victims:
            if self._wait_oom_killed(victim):
                touched.append(f"{victim.name}:OOMKilled")
        return touched

    def _fill(self, victim: _Victim) -> None:
        container = self.ctx.containers.container(victim.name)
        victim.pid = container_main_pid(container)
        victim.start_time = process_start_time(victim.pid)
        memory = container_cgroup_dirs(victim.pid, container.id, ["memory"])["memory"]
        victim.memory_dir = memory
        usage = read_cgroup_int(memory / "memory.usage_in_bytes")
        limit = min(read_cgroup_int(memory / "memory.limit_in_bytes"), self.spec.limit_mib * MIB)
        limit = max(limit, usage + HEADROOM_BYTES)
        for file in ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"):  # lower memory first
            path = memory / file
            if path.exists():
                old = read_cgroup_int(path)
                if old > limit:
                    victim.old_limits.append((path, old))
                    write_cgroup(path, limit)
        victim.old_adj = make_oom_victim(victim.pid)
        victim.helper = Helper.spawn(
            HelperConfig(mode="memory", watch_pid=victim.pid, procs_files=(str(memory / "cgroup.procs"),),
                         target_mib=limit / MIB + 64, rate_mib_s=0, oom_control=str(memory / "memory.oom_control")),
            f"oom helper for {victim.name}",
        )

    def _wait_oom_killed(self, victim: _Victim) -> bool:
        deadline = time.monotonic() + self.spec.kill_timeout_s
        while time.monotonic() < deadline:
            state = self.ctx.containers.container(victim.name).attrs.get("State") or {}
            if state.get("Status") != "running":
                if not state.get("OOMKilled"):
                    raise EnvironmentFailure(f"oom {self.spec.name}: {victim.name} stopped (exit code "
                                             f"{state.get('ExitCode')}) but the engine does not report OOMKilled")
                return True
            time.sleep(0.1)
        raise EnvironmentFailure(f"oom {self.spec.name}: {victim.name} was not OOM-killed within "
                                 f"{self.spec.kill_timeout_s:g} s")

    def revert(self) -> list[str]:
        """Stop the helpers, undo any limit/score still in place, start the victims again.

        Returns the names of the containers started again. Raises EnvironmentFailure (after
        doing everything else) if a restore or a start failed.
        """
        restarted: list[str] = []
        errors: list[str] = []
        for victim in self._victims:
            if victim.helper is not None:
                victim.helper.stop()
            same_process = victim.pid > 0 and process_start_time(victim.pid) == victim.start_time
            if same_process:
                for path, old in reversed(victim.old_limits):  # raise memsw first, then memory
                    try:
                        write_cgroup(path, old)
                    except EnvironmentFailure as exc:
                        errors.append(str(exc))
                if victim.old_adj is not None:
                    try:
                        restore_oom_score(victim.pid, victim.start_time, victim.old_adj)
                    except EnvironmentFailure as exc:
                        errors.append(str(exc))
            try:
                if self.ctx.containers.start(victim.name):
                    restarted.append(victim.name)
            except EnvironmentFailure as exc:
                errors.append(str(exc))
        self._victims = []
        if errors:
            raise EnvironmentFailure(f"oom {self.spec.name}: revert incomplete: {'; '.join(errors)}")
        return restarted
