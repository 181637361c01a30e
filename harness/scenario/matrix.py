"""A scenario's place in the resiliency matrix (``harness matrix``): which dependency it fails,
and how. The one home of the failure-mode vocabulary.

The resiliency matrix (Shopify's "dependency x failure mode" table) has one row per dependency
and one column per failure mode; each cell says whether the system held when that dependency
failed that way. A scenario joins it with::

    matrix: {dependency: catalog, failure_mode: slow, key: timeouts bound product latency}

``dependency`` is free text (the name your team uses for it: ``catalog``, ``redis``, ``api``,
``payments db``); ``failure_mode`` is one of :data:`FAILURE_MODES`, a small fixed vocabulary so
that matrices of different stacks read the same; ``key`` names the expectation whose observed
value is the cell's key number (default: the first expectation judged in a fault window).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FAILURE_MODES: dict[str, str] = {
    "slow": "answers, but late (latency, bandwidth, slicer)",
    "hang": "accepts the connection and never answers (blackhole, timeout)",
    "down": "refuses or cannot be reached (down, partition, firewall, port closed)",
    "resets": "connections reset or cut mid-way (reset_peer, limit_data)",
    "dns": "its name does not resolve (dns)",
    "killed replica": "one replica dies at once (kill, process_kill, oom)",
    "stopped replica": "one replica stops cleanly and stays away (stop)",
    "frozen replica": "one replica is frozen: its connections stay open, nothing moves (pause)",
    "crash loop": "a replica keeps restarting (crash_loop, restart)",
    "node lost": "a whole node drops off the network (node_loss)",
    "starved": "out of CPU, memory, disk or file descriptors (cpu, memory_leak, disk_full, fd_limit)",
    "overload": "more traffic than it has capacity for (a spike, a slow dependency under load)",
    "sustained load": "steady heavy load for a long time (leaks, unbounded queues)",
}
"""Every failure mode a matrix column may be, in the order the columns are drawn, each with what
it means and the fault kinds that usually produce it (``harness faults`` lists the kinds)."""

FailureMode = Literal[
    "slow", "hang", "down", "resets", "dns", "killed replica", "stopped replica", "frozen replica", "crash loop",
    "node lost", "starved", "overload", "sustained load",
]
"""The names of :data:`FAILURE_MODES`, as a type (the scenario schema lists them)."""


class MatrixTag(BaseModel):
    """Where a scenario sits in the resiliency matrix (see the module docstring).

    Fields:
        dependency: the row: what fails (free text, 1-60 characters: letters, digits, spaces,
            ``_.-/``).
        failure_mode: the column: how it fails, one of :data:`FAILURE_MODES`.
        key: the name of the expectation whose observed value is the cell's key number (an
            expectation's ``name``, or its generated label); the scenario's validation checks
            that it exists. Default: the first expectation judged in a fault window, else the
            first one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    dependency: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_./-]+( [A-Za-z0-9_./-]+)*$")
    failure_mode: FailureMode
    key: str | None = Field(default=None, min_length=1)

