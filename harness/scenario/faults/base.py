"""The envelope every fault spec shares: what a scenario's ``faults:`` entry may say, apart from
how a fault is injected (that is :mod:`harness.faults`).

A spec is a frozen pydantic model, a subclass of :class:`FaultSpec`, holding the parameters with
units in their names; validation is pydantic's, so a bad parameter is reported with its file and
line. Nothing here imports engine code (Docker, Toxiproxy, the fault implementations).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.scenario.faults.effect_rules import EffectRule, ProxyTraffic

Stream = Literal["upstream", "downstream", "both"]
"""Toxiproxy stream: ``upstream`` is client to server, ``downstream`` server to client."""

class FaultSpec(BaseModel):
    """Common envelope of every fault in a scenario's ``faults:`` list.

    Fields:
        kind: registry name of the fault kind (subclasses narrow it to a ``Literal``).
        name: unique name; defaults to ``<kind>-<position>``; windows are named after it.
        at_s: inject time in seconds after the load starts (>= 0).
        duration_s: seconds until the revert (> 0).
        every_s: make the fault intermittent: inject again every ``every_s`` seconds (counted
            from one inject to the next, so it must exceed ``duration_s``) ...
        until_s: ... while the next inject would start before ``until_s`` (required with
            ``every_s``).

    Class attributes a kind sets for ``harness faults``: ``summary`` (one line: the real failure
    it simulates) and ``seed_section`` (where in the seeds that failure is described).

    Class attributes that say how analysis proves the fault acted (a verdict on a window of a
    fault whose effect was not seen is ``inconclusive``, never ``held``):

    - ``effect_rules``: any one of these :data:`EffectRule` proves the fault acted; empty means
      the harness cannot see this kind's effect, and its windows are always inconclusive;
    - ``victim_in_path``: the fault acts on containers, and they must also have been on the
      requests' path: their answers during the baseline came to at least
      ``harness.analysis.fault_effect.IN_PATH_MIN_TX_BYTES_PER_REQUEST`` bytes per client
      request (a fault on a container nobody talks to proves nothing).

    Raises (validation): ``every_s`` without ``until_s`` or the reverse, ``every_s`` not longer
    than ``duration_s``, ``until_s`` not after ``at_s``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: ClassVar[str] = ""
    seed_section: ClassVar[str] = ""
    effect_rules: ClassVar[tuple[EffectRule, ...]] = ()
    victim_in_path: ClassVar[bool] = False
    host_needs: ClassVar[tuple[str, ...]] = ()
    """What the Docker engine's host must give the harness for this kind, checked before a run
    (:mod:`harness.faults.host_needs`): ``netns`` (a tool in a container's network namespace:
    root, ``nsenter`` and ``iptables`` here with a local engine, a helper container on a remote
    one), ``root``, ``local_engine``, ``cgroup_v1``, and tool names looked up on ``PATH``."""

    kind: str
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    at_s: float = Field(ge=0, le=86_400, description="inject time, seconds after load start")
    duration_s: float = Field(gt=0, le=86_400, description="seconds the fault stays injected")
    every_s: float | None = Field(default=None, gt=0, le=86_400, description="repeat period in seconds")
    until_s: float | None = Field(default=None, gt=0, le=86_400, description="no inject starts at or after this")

    @model_validator(mode="after")
    def _intermittent(self) -> "FaultSpec":
        if (self.every_s is None) != (self.until_s is None):
            raise ValueError("every_s and until_s go together (an intermittent fault needs both)")
        if self.every_s is not None and self.every_s <= self.duration_s:
            raise ValueError(f"every_s ({self.every_s:g}) must be longer than duration_s ({self.duration_s:g})")
        if self.until_s is not None and self.until_s <= self.at_s:
            raise ValueError(f"until_s ({self.until_s:g}) must be after at_s ({self.at_s:g})")
        return self

    def occurrences(self) -> list[tuple[float, float]]:
        """``(inject_s, revert_s)`` offsets of every occurrence: one, or one per ``every_s``
        period whose inject starts before ``until_s``."""
        if self.every_s is None or self.until_s is None:
            return [(self.at_s, self.at_s + self.duration_s)]
        out, start = [], self.at_s
        while start < self.until_s and len(out) < 10_000:
            out.append((start, start + self.duration_s))
            start += self.every_s
        return out

    @property
    def end_s(self) -> float:
        """Offset of the last revert."""
        return self.occurrences()[-1][1]

    def proxy_refs(self) -> list[str]:
        """Names of Toxiproxy proxies this fault needs; the scenario checks they are declared."""
        return []

    def service_refs(self) -> list[str]:
        """Names of compose services this fault touches (its blast radius, before resolution)."""
        return []


class NetworkFaultSpec(FaultSpec):
    """Envelope of faults applied through Toxiproxy on one proxy.

    Fields:
        proxy: name of a proxy declared under ``proxies:``.
        stream: ``upstream``, ``downstream`` (Toxiproxy's default) or ``both``.
        toxicity: probability in 0..1 that a *connection* is affected (Toxiproxy rolls it per
            connection, not per request).
        reset_connections: drop every open connection through the proxy at inject (by disabling
            and re-enabling it), so that pooled keep-alive connections also see the fault.
            Toxiproxy applies a new toxic to open connections for most toxics, but ``reset_peer``
            only acts on connections opened after it exists; without this option, a client
            with a warm pool may not see it at all.
    """

    effect_rules: ClassVar[tuple[EffectRule, ...]] = (ProxyTraffic(),)

    proxy: str = Field(min_length=1)
    stream: Stream = "downstream"
    toxicity: float = Field(default=1.0, gt=0, le=1)
    reset_connections: bool = False

    def proxy_refs(self) -> list[str]:
        """``[proxy]``: the one proxy this fault acts on."""
        return [self.proxy]


__all__ = ["FaultSpec", "NetworkFaultSpec", "Stream"]
