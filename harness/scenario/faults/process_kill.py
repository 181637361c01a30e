"""The ``process_kill`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.process_kill`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator

from harness.scenario.faults.effect_rules import EffectRule, Reported
from harness.scenario.faults.registry import register_fault_spec
from harness.scenario.faults.replica import ReplicaFaultSpec, Signal
from harness.scenario.faults.validators import valid_process_regex


@register_fault_spec
class ProcessKillSpec(ReplicaFaultSpec):
    """Parameters: ``service``, ``count`` or ``percent`` (default one replica), ``process`` (regex
    over the command line; default: PID 1's children), ``signal`` (default SIGKILL) and
    ``restart_timeout_s`` (grace of the container restart at revert)."""

    host_needs: ClassVar[tuple[str, ...]] = ("root", "local_engine", "cgroup_v1")

    summary = ("Service not listening: the app process in some replicas dies while the container stays up; its port "
               "refuses new connections, open ones are lost.")
    seed_section = "000 How Servers Fail, 4. Scenario 2: Ping Works but Port Closed"

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (Reported("killed_processes"),)

    kind: Literal["process_kill"] = "process_kill"
    process: str | None = Field(default=None, min_length=1, max_length=200,
                                description="regex searched in each process's command line (PID 1 excluded); "
                                            "default: the direct children of PID 1")
    signal: Signal = Field(default="SIGKILL", description="signal sent to the app's processes from the host")
    restart_timeout_s: int = Field(default=10, ge=0, le=300,
                                   description="grace of the container restart that brings the app back at revert, s")

    _regex = field_validator("process")(valid_process_regex)


__all__ = ["ProcessKillSpec"]
