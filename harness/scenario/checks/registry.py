"""The checks a scenario may name: every spec module of this package, plus the specs third-party
packages add through the ``harness.check_specs`` entry-point group.

Each spec module registers its spec class with :func:`register_check_spec` at import. The judges
of the same checks register themselves apart, in :mod:`harness.checks.registry` (group
``harness.checks``).
"""

from __future__ import annotations

from harness.plugins import Registry, spec_name
from harness.scenario.checks.base import CheckSpec

SPEC_ENTRY_POINT_GROUP = "harness.check_specs"
"""Entry-point group of third-party check specs (each entry names a module that registers one)."""

CHECK_SPECS: Registry[type[CheckSpec]] = Registry(
    "harness.scenario.checks", {"base", "registry"}, SPEC_ENTRY_POINT_GROUP, "check")
"""Check name -> spec class."""


def register_check_spec(spec_type: type[CheckSpec]) -> type[CheckSpec]:
    """Class decorator registering a check spec under the default of its ``check`` literal.

    Raises:
        TypeError: not a :class:`CheckSpec`, no string default for ``check``, or the name is
            taken by another class (both modules named).
    """
    return CHECK_SPECS.add(spec_name(spec_type, CheckSpec, "check"), spec_type)


def check_spec_types() -> list[type[CheckSpec]]:
    """Spec classes of every check, ``threshold`` first (the default of an entry without
    ``check``), then by name."""
    return [CHECK_SPECS.get(n) for n in sorted(CHECK_SPECS.names(), key=lambda n: (n != "threshold", n))]


def check_names() -> list[str]:
    """Names of every registered check, in :func:`check_spec_types` order."""
    return [t.model_fields["check"].default for t in check_spec_types()]


__all__ = ["CHECK_SPECS", "SPEC_ENTRY_POINT_GROUP", "check_names", "check_spec_types", "register_check_spec"]
