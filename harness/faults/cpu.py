"""``cpu``: a replica's CPU is saturated (``mode: load``) or starved by a quota (``mode: throttle``).

Mechanism, for each victim (cgroup v1, as root on the Docker host; see ``_cgroup``):

- ``load`` (default): ``cores`` host helper processes join the container's ``cpu``, ``cpuacct``
  (and ``cpuset``) cgroups and each keeps one core busy ``percent`` % of the time (busy-looping
  for ``percent`` ms of every 100 ms). The kernel accounts their time to the container (``docker
  stats`` shows about ``cores`` x ``percent`` % more) and schedules them against the container's
  own processes: under the container's CPU quota or shares they compete with the app for the
  same CPU time, like a hot loop or a runaway thread in the app. On a host with fewer free cores
  than ``cores`` the whole host slows down (a noisy neighbour).
- ``throttle``: the container's CFS quota (``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``) is set
  to ``cores`` x ``percent`` % of ``period_us``, written straight to the cgroup (the container's
  configuration is untouched; the old values are restored on revert). The app gets at most that
  much CPU per period and is throttled for the rest: every request needing CPU waits.

What a client sees: slower answers (latency grows with the CPU the app is denied), no errors of
their own; a client or load balancer with timeouts turns the slowest into timeouts. Open
connections stay open. Nothing is printed inside the container.

What ``load`` does *not* do: slow an app that has CPU to spare. Without a CPU limit on the
container (``cpus:``) and with idle cores on the host, the helpers only raise the container's CPU
use (alerts on "CPU 100 %" fire) while the app runs as fast as before. They hold the app back
only where they compete for the same CPU time: under the container's quota, or on a host with no
free core.

Effect evidence (how analysis knows the fault acted), read right before revert
(``effect_counters()``), for victims whose PID 1 is still the one of the inject:

- ``throttled_periods``: CFS periods in which the container's cgroup was throttled since inject
  (the delta of ``nr_throttled`` in its cgroup v1 ``cpu.stat``), and ``throttled_s``, the time it
  spent throttled (delta of ``throttled_time``, ns / 1e9). In ``throttle`` mode this is the quota
  holding the app back; in ``load`` mode the helpers pushing the container past its own quota.
  One period proves it (the kernel stopped the cgroup's tasks, the app's among them, for the
  rest of that period). Note that a container's own health check (a Python start-up every 2 s
  in our sample) can be throttled too: analysis also requires the victim to be on the requests'
  path (``victim_in_path``).
- ``helper_cpu_s`` (``load`` only): CPU seconds the helpers ran since they joined the cgroup
  (``/proc/<helper>/schedstat``), all of it accounted to the container; at least 0.1 s (one full
  100 ms duty-cycle period of a core) proves the load was there. It does not prove the app
  slowed down (see above); ``throttled_periods`` does.

Revert (idempotent): kill the helpers / write the old quota and period back (only if the same
container process still runs; a restarted container already has its configured values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import (
    Helper,
    HelperConfig,
    container_cgroup_dirs,
    container_main_pid,
    process_cpu_s,
    process_start_time,
    read_cgroup_int,
    read_cpu_stat,
    write_cgroup,
)
from harness.faults._effect import bounded_read
from harness.faults.base import Fault
from harness.faults.registry import register
from harness.faults.replica import choose_replicas
from harness.scenario.faults.cpu import CpuSpec


@dataclass
class _Victim:
    name: str
    pid: int = 0
    start_time: int | None = None
    helpers: list[Helper] = field(default_factory=list)
    old_values: list[tuple[Path, int]] = field(default_factory=list)  # in the order they were changed
    cpu_dir: Path | None = None  # its cgroup v1 cpu directory (for cpu.stat)
    stat_at_inject: dict[str, int] = field(default_factory=dict)  # cpu.stat before the change
    helper_cpu_at_start: list[tuple[int, float]] = field(default_factory=list)  # (helper pid, CPU s when ready)


def _stat_or_empty(cpu_dir: Path) -> dict[str, int]:
    """``cpu.stat`` of ``cpu_dir``, or {} if unreadable (a measurement never fails the inject)."""
    try:
        return read_cpu_stat(cpu_dir)
    except EnvironmentFailure:
        return {}


@register
class CpuFault(Fault):
    """Busy helpers (``load``) or a CFS quota (``throttle``) on each victim."""

    spec_type = CpuSpec
    spec: CpuSpec

    def __init__(self, spec, ctx):
        super().__init__(spec, ctx)
        self._victims: list[_Victim] = []

    def inject(self) -> list[str]:
        """Load or throttle each victim; return their names.

        Raises:
            EnvironmentFailure: no running replica, no cgroup v1 cpu controller, a helper could
                not join, or the kernel refused the quota.
        """
        touched = []
        for name in choose_replicas(self, self.spec):
            victim = _Victim(name)
            self._victims.append(victim)
            container = self.ctx.containers.container(name)
            victim.pid = container_main_pid(container)
            victim.start_time = process_start_time(victim.pid)
            if self.spec.mode == "load":
                dirs = container_cgroup_dirs(victim.pid, container.id, ["cpu", "cpuacct"], optional=("cpuset",))
                victim.cpu_dir = dirs["cpu"]
                victim.stat_at_inject = _stat_or_empty(dirs["cpu"])
                procs = tuple(dict.fromkeys(str(d / "cgroup.procs") for d in dirs.values()))  # co-mounted: once
                for core in range(self.spec.cores):
                    helper = Helper.spawn(
                        HelperConfig(mode="cpu", watch_pid=victim.pid, procs_files=procs,
                                     percent=self.spec.cpu_percent),
                        f"cpu helper {core + 1} for {name}",
                    )
                    victim.helpers.append(helper)
                    victim.helper_cpu_at_start.append((helper.pid, process_cpu_s(helper.pid) or 0.0))
            else:
                cpu = victim.cpu_dir = container_cgroup_dirs(victim.pid, container.id, ["cpu"])["cpu"]
                victim.stat_at_inject = _stat_or_empty(cpu)
                for path, value in ((cpu / "cpu.cfs_period_us", self.spec.period_us),
                                    (cpu / "cpu.cfs_quota_us", self.spec.quota_us())):
                    victim.old_values.append((path, read_cgroup_int(path)))
                    write_cgroup(path, value)
            touched.append(name)
        return touched

    def effect_counters(self) -> dict[str, float]:
        """What the fault did to its victims since inject, summed over them (see the module
        docstring): ``throttled_periods`` (CFS periods, count) and ``throttled_s`` (s throttled)
        from each victim's ``cpu.stat`` (only victims still running the PID 1 of the inject and
        whose ``cpu.stat`` was readable at inject: a restarted container has a new cgroup with
        fresh counters), and in ``load`` mode ``helper_cpu_s`` (CPU s the helpers ran since
        ready). ``{}`` when nothing was readable. Never raises."""
        return bounded_read(self._measure, f"cpu {self.spec.name}")

    def _measure(self) -> dict[str, float]:
        periods, throttled_ns, helper_s, stats_read = 0, 0, 0.0, 0
        for victim in list(self._victims):
            for pid, at_start in victim.helper_cpu_at_start:
                helper_s += max(0.0, (process_cpu_s(pid) or at_start) - at_start)
            if not victim.stat_at_inject or victim.cpu_dir is None:
                continue
            if process_start_time(victim.pid) != victim.start_time:
                continue  # restarted or gone: its cgroup's counters started again
            now = _stat_or_empty(victim.cpu_dir)
            if not now:
                continue
            stats_read += 1
            periods += max(0, now.get("nr_throttled", 0) - victim.stat_at_inject.get("nr_throttled", 0))
            throttled_ns += max(0, now.get("throttled_time", 0) - victim.stat_at_inject.get("throttled_time", 0))
        out: dict[str, float] = {}
        if stats_read:
            out.update(throttled_periods=periods, throttled_s=round(throttled_ns / 1e9, 3))
        if self.spec.mode == "load" and any(v.helper_cpu_at_start for v in self._victims):
            out["helper_cpu_s"] = round(helper_s, 3)
        return out

    def revert(self) -> list[str]:
        """Stop the helpers / restore the quota; return the victims' names.

        Raises:
            EnvironmentFailure: the kernel refused the old quota (after trying every victim).
        """
        touched, errors = [], []
        for victim in self._victims:
            for helper in victim.helpers:
                helper.stop()
            if victim.old_values and victim.pid and process_start_time(victim.pid) == victim.start_time:
                for path, old in reversed(victim.old_values):  # the quota first, then the period
                    try:
                        write_cgroup(path, old)
                    except EnvironmentFailure as exc:
                        errors.append(str(exc))
            touched.append(victim.name)
        self._victims = []
        if errors:
            raise EnvironmentFailure(f"cpu {self.spec.name}: revert incomplete: {'; '.join(errors)}")
        return touched
