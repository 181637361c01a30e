"""The fault kinds a scenario may name: every spec module of this package, plus the specs
third-party packages add through the ``harness.fault_specs`` entry-point group.

Each spec module registers its spec class with :func:`register_fault_spec` at import, the only
thing that runs at import. The injectors of the same kinds register themselves apart, in
:mod:`harness.faults.registry` (group ``harness.faults``): a scenario can be read, validated and
described without importing any of them.
"""

from __future__ import annotations

from harness.plugins import Registry, spec_name
from harness.scenario.faults.base import FaultSpec

SPEC_ENTRY_POINT_GROUP = "harness.fault_specs"
"""Entry-point group of third-party fault specs (each entry names a module that registers one)."""

FAULT_SPECS: Registry[type[FaultSpec]] = Registry(
    "harness.scenario.faults", {"base", "describe", "effect_rules", "registry", "replica", "validators"},
    SPEC_ENTRY_POINT_GROUP, "fault kind")
"""Kind name -> spec class."""


def register_fault_spec(spec_type: type[FaultSpec]) -> type[FaultSpec]:
    """Class decorator: register ``spec_type`` under the default of its ``kind`` literal.

    Raises:
        TypeError: not a :class:`FaultSpec`, its ``kind`` has no non-empty string default (write
            ``kind: Literal['x'] = 'x'``), or another spec holds the kind (both modules named).
    """
    return FAULT_SPECS.add(spec_name(spec_type, FaultSpec, "kind"), spec_type)


def fault_kinds() -> list[str]:
    """Sorted names of every registered fault kind."""
    return FAULT_SPECS.names()


def fault_spec_types() -> list[type[FaultSpec]]:
    """Spec classes of every registered kind, sorted by kind (the scenario's discriminated union)."""
    return [FAULT_SPECS.get(kind) for kind in FAULT_SPECS.names()]


__all__ = ["FAULT_SPECS", "SPEC_ENTRY_POINT_GROUP", "fault_kinds", "fault_spec_types", "register_fault_spec"]
