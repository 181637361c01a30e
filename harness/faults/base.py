"""The fault contract every kind implements.

A kind is two classes in one module (the shape of Toxiproxy's ``toxics/``):

- a frozen pydantic *spec* (subclass of :class:`FaultSpec`) holding the parameters with units in
  their names; validation is pydantic's, so a bad parameter is reported with its file and line;
- a *fault* (subclass of :class:`Fault`) built from the spec and a :class:`FaultContext`, with
  ``inject()`` and ``revert()``. ``revert()`` is idempotent and safe after a failed or partial
  ``inject()``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from harness.environment.stack import Stack
    from harness.toxiproxy.client import ToxiproxyClient

Stream = Literal["upstream", "downstream", "both"]
"""Toxiproxy stream: ``upstream`` is client to server, ``downstream`` server to client."""


class FaultSpec(BaseModel):
    """Common envelope of every fault in a scenario's ``faults:`` list.

    Fields:
        kind: registry name of the fault kind (subclasses narrow it to a ``Literal``).
        name: unique name; defaults to ``<kind>-<position>``; windows are named after it.
        at_s: inject time in seconds after the load starts (>= 0).
        duration_s: seconds until the revert (> 0).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    at_s: float = Field(ge=0, le=86_400, description="inject time, seconds after load start")
    duration_s: float = Field(gt=0, le=86_400, description="seconds the fault stays injected")

    def proxy_refs(self) -> list[str]:
        """Names of Toxiproxy proxies this fault needs; the scenario checks they are declared."""
        return []

    def service_refs(self) -> list[str]:
        """Names of compose services this fault touches (its blast radius, before resolution)."""
        return []


class NetworkFaultSpec(FaultSpec):
    """Envelope of faults applied as a Toxiproxy toxic on one proxy.

    Fields:
        proxy: name of a proxy declared under ``proxies:``.
        stream: ``upstream``, ``downstream`` (Toxiproxy's default) or ``both``.
        toxicity: probability in 0..1 that a *connection* is affected (Toxiproxy rolls it per
            connection, not per request).
    """

    proxy: str = Field(min_length=1)
    stream: Stream = "downstream"
    toxicity: float = Field(default=1.0, ge=0, le=1)

    def proxy_refs(self) -> list[str]:
        return [self.proxy]


@dataclass
class FaultContext:
    """What a fault may touch: the run's Toxiproxy, the run's stack, and a seeded RNG.

    ``rng`` is seeded from the scenario seed and the fault's name, so the same seed picks the same
    victims whatever the order of faults.
    """

    toxiproxy: ToxiproxyClient
    stack: Stack
    rng: random.Random = field(default_factory=random.Random)


class Fault(ABC):
    """One injected fault. Built per run from its spec; holds what it changed so it can revert.

    Subclasses set ``spec_type`` to their spec class and implement :meth:`inject` and
    :meth:`revert`. Both return the names of what they touched (containers or ``proxy/toxic``),
    which the journal records. Both raise :class:`harness.errors.EnvironmentFailure` when Docker or
    Toxiproxy fails.
    """

    spec_type: ClassVar[type[FaultSpec]]

    def __init__(self, spec: FaultSpec, ctx: FaultContext):
        self.spec = spec
        self.ctx = ctx

    @abstractmethod
    def inject(self) -> list[str]:
        """Apply the fault; return what was touched."""

    @abstractmethod
    def revert(self) -> list[str]:
        """Undo the fault; idempotent, safe after a failed inject; return what was restored."""
