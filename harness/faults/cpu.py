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

Revert (idempotent): kill the helpers / write the old quota and period back (only if the same
container process still runs; a restarted container already has its configured values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from harness.errors import EnvironmentFailure
from harness.faults._cgroup import (
    Helper,
    HelperConfig,
    container_cgroup_dirs,
    container_main_pid,
    process_start_time,
    read_cgroup_int,
    write_cgroup,
)
from harness.faults.base import Fault
from harness.faults.kill import ReplicaFaultSpec, choose_replicas
from harness.faults.registry import register

MIN_QUOTA_US = 1000
"""The kernel's smallest CFS quota (1 ms)."""


class CpuSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``mode`` (``load``
    or ``throttle``), ``cores`` (1..64) and ``cpu_percent`` (0 < x <= 100, per core), and for
    ``throttle`` ``period_us`` (the CFS period, 1000..1000000 us)."""

    summary = "CPU 100%: a replica's CPU is saturated by busy loops (load) or starved by a CFS quota (throttle)."
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Infrastructure Layer: CPU 100%"

    kind: Literal["cpu"] = "cpu"
    mode: Literal["load", "throttle"] = Field(
        default="load", description="load: busy helpers in the container's cgroup; throttle: a CFS quota")
    cores: int = Field(default=1, ge=1, le=64,
                       description="load: busy helper processes (one core each); throttle: cores the quota allows")
    cpu_percent: float = Field(default=100, gt=0, le=100,
                               description="load: busy share of each helper's core; throttle: share of each core "
                                           "allowed, percent")
    period_us: int = Field(default=100_000, ge=1000, le=1_000_000,
                           description="throttle: CFS period the quota is set against, us")

    def quota_us(self) -> int:
        """The throttle quota: ``cores`` x ``cpu_percent`` % of ``period_us`` (at least 1000 us)."""
        return max(MIN_QUOTA_US, round(self.period_us * self.cores * self.cpu_percent / 100))


@dataclass
class _Victim:
    name: str
    pid: int = 0
    start_time: int | None = None
    helpers: list[Helper] = field(default_factory=list)
    old_values: list[tuple[Path, int]] = field(default_factory=list)  # in the order they were changed


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
            container = self.ctx.stack.container(name)
            victim.pid = container_main_pid(container)
            victim.start_time = process_start_time(victim.pid)
            if self.spec.mode == "load":
                dirs = container_cgroup_dirs(victim.pid, container.id, ["cpu", "cpuacct"], optional=("cpuset",))
                procs = tuple(dict.fromkeys(str(d / "cgroup.procs") for d in dirs.values()))  # co-mounted: once
                for core in range(self.spec.cores):
                    victim.helpers.append(Helper.spawn(
                        HelperConfig(mode="cpu", watch_pid=victim.pid, procs_files=procs,
                                     percent=self.spec.cpu_percent),
                        f"cpu helper {core + 1} for {name}",
                    ))
            else:
                cpu = container_cgroup_dirs(victim.pid, container.id, ["cpu"])["cpu"]
                for path, value in ((cpu / "cpu.cfs_period_us", self.spec.period_us),
                                    (cpu / "cpu.cfs_quota_us", self.spec.quota_us())):
                    victim.old_values.append((path, read_cgroup_int(path)))
                    write_cgroup(path, value)
            touched.append(name)
        return touched

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
