"""Registry of checks: every module of this package except the core ones registers its spec."""

from __future__ import annotations

from harness.checks.base import CheckSpec
from harness.plugins import import_modules

_CORE_MODULES = {"base", "registry"}
_REGISTRY: dict[str, type[CheckSpec]] = {}
_loaded = False


def register_check(spec_type: type[CheckSpec]) -> type[CheckSpec]:
    """Class decorator registering a check spec under its ``check`` literal default.

    Raises:
        TypeError: no string default for ``check``, or the name is taken by another class.
    """
    name = spec_type.model_fields["check"].default
    if not isinstance(name, str) or not name:
        raise TypeError(f"{spec_type.__name__}.check needs a string default")
    other = _REGISTRY.get(name)
    if other is not None and other is not spec_type:
        raise TypeError(f"check {name!r} registered twice: {other.__module__} and {spec_type.__module__}")
    _REGISTRY[name] = spec_type
    return spec_type


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_modules("harness.checks", _CORE_MODULES)


def check_spec_types() -> list[type[CheckSpec]]:
    """Spec classes of every check, ``threshold`` first, then by name."""
    _load()
    return [_REGISTRY[n] for n in sorted(_REGISTRY, key=lambda n: (n != "threshold", n))]


def check_names() -> list[str]:
    """Names of every registered check."""
    return [t.model_fields["check"].default for t in check_spec_types()]
