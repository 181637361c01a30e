"""``memory_leak``: a replica's memory grows steadily, as if its process leaked, up to a ceiling.

Mechanism, for each victim (cgroup v1, as root on the Docker host; see ``_cgroup``): a host
helper process joins the container's memory cgroup and writes ``rate_mib_s`` MiB per second into
an in-memory file (a memfd: swap-backed memory the kernel cannot reclaim without swap) until it
holds ``limit_mib``, then holds it. The kernel charges that memory to the container: ``docker
stats`` shows the container's usage rising by ``rate_mib_s`` per second, and the container's own
memory limit applies to it. The image does not matter (no tool is run inside the container).

What a client sees: nothing at first (a leak is invisible until it hurts); as the cgroup nears a
memory limit, the kernel reclaims the container's page cache first, so its file I/O may slow
down. When the container has a memory limit below its usage + ``limit_mib``, the leak ends like
a real one: the cgroup reaches its limit and the kernel's OOM killer kills the leaking app. (The
helper's memory is in no process's RSS, but the helper's own interpreter is about as big as a
small app, so for the fault's duration the container's PID 1 gets ``oom_score_adj`` 1000,
restored on revert, to make sure the kernel picks it and not the helper.) The container stops
with ``OOMKilled`` true and the service is down until revert. Open connections are unaffected
until the OOM kill; then they are lost with the process, requests in flight fail, and a load
balancer takes the replica out after its health check's ``fall`` count. Without a limit the
host's memory is used (bounded by ``limit_mib``).

Effect evidence (how analysis knows the fault acted): Docker's ``oom`` event for a victim (the
leak reached the container's limit), or ``leaked_mib``, read right before revert
(``effect_counters()``): the MiB the helpers hold at that moment, summed over victims (the size
of each helper's memfd, ``stat`` of ``/proc/<helper>/fd/N``), all of it charged to the victim's
memory cgroup. One MiB (the helper's step) proves the leak grew; whether the app noticed is the
expectation's question (only near a limit does it). After an OOM kill the helper has exited and
holds nothing, so the ``oom`` event is the proof then.

Revert (idempotent): kill the helpers (their memory is freed at once) and start any victim that
stopped with ``OOMKilled`` (the leak killed it; one stopped for another reason is left to
whatever stopped it, e.g. an overlapping ``kill`` fault). Limits: the growth is linear,
in 1 MiB steps; the memory is the helper's, not the app's, so heap profilers inside the app see
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import (
    MIB,
    Helper,
    HelperConfig,
    container_cgroup_dirs,
    container_main_pid,
    make_oom_victim,
    memfd_bytes,
    process_start_time,
    restore_oom_score,
)
from harness.faults._effect import bounded_read
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas
from harness.scenario.faults.memory_leak import MemoryLeakSpec


@dataclass
class _Victim:
    name: str
    pid: int = 0
    start_time: int | None = None
    old_adj: str | None = None
    helper: Helper | None = None


@register
class MemoryLeakFault(Fault):
    """One growing helper per victim, in the victim's memory cgroup."""

    spec_type = MemoryLeakSpec
    spec: MemoryLeakSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[_Victim] = []

    def inject(self) -> list[str]:
        """Start the leak in each victim; return their names.

        Raises:
            EnvironmentFailure: no running replica, no cgroup v1 memory controller, or the
                helper could not join the cgroup.
        """
        touched = []
        for name in choose_replicas(self, self.spec):
            victim = _Victim(name)
            self._victims.append(victim)
            container = self.ctx.containers.container(name)
            pid = victim.pid = container_main_pid(container)
            victim.start_time = process_start_time(pid)
            memory = container_cgroup_dirs(pid, container.id, ["memory"])["memory"]
            victim.old_adj = make_oom_victim(pid)
            victim.helper = Helper.spawn(
                HelperConfig(mode="memory", watch_pid=pid, procs_files=(str(memory / "cgroup.procs"),),
                             target_mib=self.spec.limit_mib, rate_mib_s=self.spec.rate_mib_s,
                             oom_control=str(memory / "memory.oom_control")),
                f"memory_leak helper for {name}",
            )
            touched.append(name)
        return touched

    def effect_counters(self) -> dict[str, float]:
        """``leaked_mib``: MiB the victims' helpers hold right now, summed (0 for a helper that
        exited, e.g. after the OOM kill it caused); ``{}`` before inject or when unreadable.
        Never raises."""
        return bounded_read(self._measure, f"memory_leak {self.spec.name}")

    def _measure(self) -> dict[str, float]:
        helpers = [v.helper for v in list(self._victims) if v.helper is not None]
        if not helpers:
            return {}
        return {"leaked_mib": round(sum(memfd_bytes(h.pid) for h in helpers) / MIB, 1)}

    def revert(self) -> list[str]:
        """Free the leaked memory (kill the helpers) and start victims the leak OOM-killed.

        Returns the victims' names. Raises EnvironmentFailure (after stopping every helper) when a
        victim cannot be started again.
        """
        touched, errors = [], []
        for victim in self._victims:
            if victim.helper is not None:
                victim.helper.stop()
            touched.append(victim.name)
            try:
                if victim.old_adj is not None:
                    restore_oom_score(victim.pid, victim.start_time, victim.old_adj)
                state = self.ctx.containers.container(victim.name).attrs.get("State") or {}
                if state.get("Status") != "running" and state.get("OOMKilled"):
                    self.ctx.containers.start(victim.name)
            except EnvironmentFailure as exc:
                errors.append(str(exc))
        self._victims = []
        if errors:
            raise EnvironmentFailure(f"memory_leak {self.spec.name}: revert incomplete: {'; '.join(errors)}")
        return touched
