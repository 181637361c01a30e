"""The ``blackhole`` fault's spec: what a scenario's ``faults:`` entry of this kind may say.

How the fault acts, and what a client sees, is :mod:`harness.faults.blackhole`.
"""

from __future__ import annotations

from typing import Literal

from harness.scenario.faults.base import NetworkFaultSpec
from harness.scenario.faults.registry import register_fault_spec


@register_fault_spec
class BlackholeSpec(NetworkFaultSpec):
    """Parameters: ``proxy``, ``toxicity``, ``reset_connections`` from :class:`NetworkFaultSpec`;
    ``stream`` can only be ``both`` (the partition is silent in both directions)."""

    summary = ("Silent dependency: connects (to the proxy) succeed, then every byte both ways is dropped; requests hang "
               "until the client's own timeout (a real partition also stops the connect: see partition).")
    seed_section = "001 What Happens When Servers Crash, 1. Anatomy of a Server Crash: Network Partition"

    kind: Literal["blackhole"] = "blackhole"
    stream: Literal["both"] = "both"


__all__ = ["BlackholeSpec"]
