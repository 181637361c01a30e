"""The ``fd_limit`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.fd_limit`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec
from harness.scenario.faults.validators import valid_process_regex


@register_fault_spec
class FdLimitSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), either
    ``spare_fds`` (0..100000 descriptors beyond those open at inject; default 0) or
    ``max_open_files`` (1..1048576, absolute), and ``process`` (regex over the command line;
    default every process of the container)."""

    host_needs: ClassVar[tuple[str, ...]] = ("root", "local_engine", "cgroup_v1")

    summary = ("File descriptors exhausted: new sockets and files fail with EMFILE; a server's new connections are "
               "accepted by the kernel, then hang; open connections keep working.")
    seed_section = "000 How Servers Fail, 5. Step-by-Step Troubleshooting Flow: Step 4: File descriptors"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("exhausted_processes"),)

    kind: Literal["fd_limit"] = "fd_limit"
    spare_fds: int | None = Field(default=None, ge=0, le=100_000,
                                  description="descriptors each process may still open beyond those it holds "
                                              "steadily at inject (default 0 when max_open_files is not given)")
    max_open_files: int | None = Field(default=None, ge=1, le=1_048_576,
                                       description="absolute soft limit on open descriptors per process")
    process: str | None = Field(default=None, min_length=1, max_length=200,
                                description="regex searched in each process's command line; default: every "
                                            "process of the container")

    @model_validator(mode="after")
    def _one_limit(self) -> "FdLimitSpec":
        if self.spare_fds is not None and self.max_open_files is not None:
            raise ValueError("give either spare_fds or max_open_files, not both")
        return self

    _regex = field_validator("process")(valid_process_regex)

    def limit_for(self, lowest_free: int) -> int:
        """The soft limit for a process whose lowest descriptor number not steadily in use is
        ``lowest_free`` (see the module docstring); at least 1."""
        if self.max_open_files is not None:
            return self.max_open_files
        return max(1, lowest_free + (self.spare_fds or 0))


__all__ = ["FdLimitSpec"]
