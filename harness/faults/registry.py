"""Registry of fault kinds: the built-in modules of this package plus the ``harness.faults``
entry-point group, through which third-party packages add kinds.

Built-ins are discovered by importing every module of this package except ``base`` and
``registry``; each calls :func:`register` at import. That is the only thing that runs at import.
"""

from __future__ import annotations

from harness.faults.base import Fault, FaultSpec
from harness.plugins import import_modules

ENTRY_POINT_GROUP = "harness.faults"
_CORE_MODULES = {"base", "registry"}
_REGISTRY: dict[str, type[Fault]] = {}
_loaded = False


def register(fault_type: type[Fault]) -> type[Fault]:
    """Class decorator: register ``fault_type`` under the ``kind`` literal of its ``spec_type``.

    Raises:
        TypeError: the class has no ``spec_type``, its ``kind`` is not a single string literal,
            or the kind is already registered by another class (the message names both).
    """
    spec_type = getattr(fault_type, "spec_type", None)
    if not (isinstance(spec_type, type) and issubclass(spec_type, FaultSpec)):
        raise TypeError(f"fault {fault_type.__module__}.{fault_type.__name__} has no spec_type")
    kind_field = spec_type.model_fields["kind"]
    kind = kind_field.default
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{spec_type.__name__}.kind needs a string default, e.g. kind: Literal['x'] = 'x'")
    other = _REGISTRY.get(kind)
    if other is not None and other is not fault_type:
        raise TypeError(f"fault kind {kind!r} registered twice: {other.__module__} and {fault_type.__module__}")
    _REGISTRY[kind] = fault_type
    return fault_type


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import_modules("harness.faults", _CORE_MODULES, ENTRY_POINT_GROUP)


def fault_kinds() -> list[str]:
    """Sorted names of every registered fault kind."""
    _load()
    return sorted(_REGISTRY)


def fault_spec_types() -> list[type[FaultSpec]]:
    """Spec classes of every registered kind, sorted by kind (the scenario's discriminated union)."""
    _load()
    return [_REGISTRY[k].spec_type for k in sorted(_REGISTRY)]


def fault_for(spec: FaultSpec) -> type[Fault]:
    """The fault class registered for ``spec.kind``.

    Raises:
        KeyError: no kind of that name is registered.
    """
    _load()
    return _REGISTRY[spec.kind]


_ENVELOPE = ("kind", "name", "at_s", "duration_s", "every_s", "until_s")
_UNITS = {"_mib_s": "MiB/s", "_ms": "ms", "_s": "s", "_us": "us", "_mib": "MiB", "_kbps": "KB/s", "_bytes": "bytes", "percent": "%",
          "toxicity": "probability 0..1", "bytes": "bytes"}


def _unit(field_name: str) -> str:
    for suffix, unit in _UNITS.items():
        if field_name.endswith(suffix) or field_name == suffix:
            return unit
    return ""


def describe_kinds() -> list[dict[str, object]]:
    """Every registered kind for ``harness faults``: ``kind``, ``summary`` (the real failure it
    simulates), ``seed_section`` (where the seeds describe it), and ``parameters``: one entry per
    kind-specific field with ``name``, ``type``, ``unit`` (from the name's suffix), ``required``,
    ``default`` and ``description``. The envelope fields every fault shares (name, at_s,
    duration_s, every_s, until_s) are listed once under ``common``.

    How analysis proves a fault of the kind acted: ``effect_evidence`` (one line of plain words,
    e.g. "its iptables rules matched at least 1 packet(s) ..."), ``effect_rules`` (the kind's
    :attr:`FaultSpec.effect_rules` as ``{"rule": <kind>, ...fields}``, any one proves it) and
    ``victim_in_path`` (the touched containers must also have answered requests)."""
    from harness.faults._effect import describe_evidence, rule_fields

    out: list[dict[str, object]] = []
    for spec in fault_spec_types():
        schema = spec.model_json_schema()["properties"]
        params = []
        for name, field in spec.model_fields.items():
            if name in _ENVELOPE:
                continue
            prop = schema.get(name, {})
            kind = prop.get("type") or " | ".join(
                str(x.get("type", x.get("const", ""))) for x in prop.get("anyOf", []) if x.get("type") != "null"
            ) or ("enum" if "enum" in prop else "")
            if "enum" in prop:
                kind = " | ".join(map(str, prop["enum"]))
            params.append({
                "name": name,
                "type": kind,
                "unit": _unit(name),
                "required": field.is_required(),
                "default": None if field.is_required() else field.get_default(call_default_factory=True),
                "description": field.description or "",
            })
        out.append({
            "kind": spec.model_fields["kind"].default,
            "summary": spec.summary,
            "seed_section": spec.seed_section,
            "effect_evidence": describe_evidence(spec),
            "effect_rules": [rule_fields(rule) for rule in spec.effect_rules],
            "victim_in_path": spec.victim_in_path,
            "parameters": params,
        })
    return out


COMMON_PARAMETERS = {
    "name": "unique name; windows are named after it (default <kind>-<position>)",
    "at_s": "inject time, seconds after the load starts",
    "duration_s": "seconds the fault stays injected",
    "every_s": "intermittent: inject again every every_s seconds ...",
    "until_s": "... while the next inject starts before until_s",
}
"""The envelope every fault kind shares (:class:`harness.faults.FaultSpec`)."""
