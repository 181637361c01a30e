"""The injectors of the fault kinds: every kind module of this package, plus the ones
third-party packages add through the ``harness.faults`` entry-point group (their specs register
apart, through ``harness.fault_specs``: :mod:`harness.scenario.faults.registry`).

Each kind module registers its :class:`Fault` class with :func:`register` at import, the only
thing that runs at import.
"""

from __future__ import annotations

from harness.faults.base import Fault
from harness.plugins import Registry, spec_name
from harness.scenario.faults import FaultSpec

ENTRY_POINT_GROUP = "harness.faults"
"""Entry-point group of third-party injectors (each entry names a module that registers one)."""

FAULTS: Registry[type[Fault]] = Registry(
    "harness.faults", {"base", "context", "host_needs", "registry", "replica", "toxic_fault"}, ENTRY_POINT_GROUP,
    "fault injector")
"""Kind name -> fault class."""


def register(fault_type: type[Fault]) -> type[Fault]:
    """Class decorator: register ``fault_type`` under the ``kind`` of its ``spec_type``.

    Raises:
        TypeError: the class has no ``spec_type`` that is a :class:`FaultSpec`, its ``kind`` is
            not a single string literal, or another class holds the kind (both modules named).
    """
    owner = f"fault {fault_type.__module__}.{fault_type.__name__}"
    return FAULTS.add(spec_name(getattr(fault_type, "spec_type", None), FaultSpec, "kind", owner), fault_type)


def fault_kinds() -> list[str]:
    """Sorted names of every kind that has an injector."""
    return FAULTS.names()


def fault_for(spec: FaultSpec) -> type[Fault]:
    """The fault class registered for ``spec.kind``.

    Raises:
        KeyError: no injector of that kind is registered (a spec plugin without its injector).
    """
    return FAULTS.get(spec.kind)


__all__ = ["ENTRY_POINT_GROUP", "FAULTS", "fault_for", "fault_kinds", "register"]
