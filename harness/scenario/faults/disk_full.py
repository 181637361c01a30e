"""The ``disk_full`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.disk_full`.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import ClassVar, Literal

from pydantic import Field, field_validator

from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec


@register_fault_spec
class DiskFullSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``path`` (an
    absolute directory in the container, no ``..``), ``leave_mib`` (free space left, >= 0 MiB)
    and ``max_fill_mib`` (the most the fault writes per victim, 1..1048576 MiB)."""

    host_needs: ClassVar[tuple[str, ...]] = ("root", "local_engine", "cgroup_v1")

    summary = ("Disk full: the file system under a path in some replicas fills up; writes there fail with ENOSPC "
               "(reads, other paths and a service that does not write are unaffected).")
    seed_section = "000 How Servers Fail, 3. What Actually Fails: Infrastructure Layer: Disk full"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("filled_mib", 1.0),)

    kind: Literal["disk_full"] = "disk_full"
    path: str = Field(min_length=1, max_length=1024,
                      description="absolute path of a directory inside the container whose file system is filled")
    leave_mib: float = Field(default=0, ge=0, le=1_048_576, description="free space left on the file system, MiB")
    max_fill_mib: int = Field(default=1024, ge=1, le=1_048_576,
                              description="refuse to write more than this per victim, MiB "
                                          "(protects a shared host disk)")

    @field_validator("path")
    @classmethod
    def _absolute_clean(cls, value: str) -> str:
        p = PurePosixPath(value)
        if not p.is_absolute():
            raise ValueError("path must be absolute (inside the container)")
        if any(part in ("..", ".") for part in value.split("/")) or "\0" in value:
            raise ValueError("path must not contain '.', '..' or NUL components")
        return str(p)


__all__ = ["DiskFullSpec"]
