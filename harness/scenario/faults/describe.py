"""``harness faults``: every registered fault kind in plain words, from its spec alone: what real
failure it simulates, its parameters with their units, and how analysis proves that a fault of
the kind acted (its effect rules).

Reads spec classes only (:mod:`harness.scenario.faults.registry`), never an injector.
"""

from __future__ import annotations

import dataclasses

from harness.scenario.faults.base import FaultSpec
from harness.scenario.faults.effect_rules import ContainerEvents, EffectRule, ProxyPathLive, ProxyTraffic, Reported
from harness.scenario.faults.registry import fault_spec_types

COUNTER_WORDS: dict[str, str] = {
    "matched_packets": "its iptables rules matched at least {n} packet{s} (traffic the fault dropped or rejected)",
    "throttled_periods": "a CPU quota throttled the victim's cgroup in at least {n} CFS period{s}",
    "helper_cpu_s": "its busy helpers ran at least {n} CPU s inside the victim's cgroup",
    "leaked_mib": "its helpers held at least {n} MiB charged to the victim's memory cgroup",
    "filled_mib": "its fill files took at least {n} MiB of the victim's file system",
    "exhausted_processes": "at least {n} victim process{es} could not open one more file descriptor",
    "killed_processes": "at least {n} app process{es} it signalled were gone",
}
"""What each counter a built-in kind reports proves, as a ``str.format`` template (``{n}``: the
rule's ``at_least``; ``{s}`` / ``{es}``: the plural ending, empty for 1). A key without an entry
is rendered generically (:func:`describe_rule`)."""


def describe_rule(rule: EffectRule) -> str:
    """One effect rule in plain words, e.g. ``"traffic crossed its proxy while it was injected"``.

    Reported keys come from :data:`COUNTER_WORDS`; an unknown key (a plugin's) reads ``"it
    measured <key> >= <at_least>"``.
    """
    if isinstance(rule, ProxyTraffic):
        return "traffic crossed its proxy while it was injected"
    if isinstance(rule, ProxyPathLive):
        return f"its proxy carried traffic in the {rule.before_s:g} s before the inject (the fault cut a live path)"
    if isinstance(rule, ContainerEvents):
        article = "an" if rule.actions and rule.actions[0][:1] in "aeiou" else "a"
        return f"Docker reported {article} {' or '.join(rule.actions)} event for a container it touched"
    if isinstance(rule, Reported):
        template = COUNTER_WORDS.get(rule.key)
        if template is None:
            return f"it measured {rule.key} >= {rule.at_least:g}"
        one = rule.at_least == 1
        return template.format(n=f"{rule.at_least:g}", s="" if one else "s", es="" if one else "es")
    return f"{type(rule).__name__}"


IN_PATH_WORDS = "and the containers it touched were on the requests' path (they answered requests just before the inject)"
"""The ``victim_in_path`` condition in plain words (see :attr:`FaultSpec.victim_in_path`)."""

NEVER_PROVEN = "never proven (no effect rule): its windows are always inconclusive"
"""What ``harness faults`` says of a kind with no effect rule."""


def describe_evidence(spec_type: type[FaultSpec]) -> str:
    """How analysis proves that a fault of ``spec_type`` acted, in one line: its rules joined
    with "or", then the in-path condition when ``victim_in_path`` is set; :data:`NEVER_PROVEN`
    without rules."""
    rules = spec_type.effect_rules
    if not rules:
        return NEVER_PROVEN
    text = " or ".join(describe_rule(r) for r in rules)
    return f"{text}, {IN_PATH_WORDS}" if spec_type.victim_in_path else text


def rule_fields(rule: EffectRule) -> dict[str, object]:
    """One effect rule as JSON: ``{"rule": <kind>, ...its fields}`` (e.g. ``{"rule": "reported",
    "key": "matched_packets", "at_least": 1.0}``)."""
    values = {f.name: getattr(rule, f.name) for f in dataclasses.fields(rule)}
    return {"rule": rule.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}}


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
"""The envelope every fault kind shares (:class:`harness.scenario.faults.FaultSpec`)."""
