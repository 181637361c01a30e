"""Shared by the kinds' :meth:`~harness.faults.base.Fault.effect_counters`: a bounded, never-raising
read, and the plain words ``harness faults`` uses to say how a kind's effect is proven.

Private module: not a fault kind, not auto-registered.

The read contract (the timeline calls ``effect_counters()`` right before ``revert()``, while the
fault is still in place, and journals the result in ``fault.revert`` as ``effect``):

- it is cheap: procfs / cgroupfs files (no call that waits on another process) or one short
  ``iptables -L`` per chain and namespace;
- it is bounded: :func:`bounded_read` gives up after :data:`EFFECT_READ_TIMEOUT_S`, so it can
  delay the revert by no more than that;
- it never raises: any failure gives ``{}`` (analysis then cannot prove the effect from it, and
  the window is inconclusive unless another rule proves it). A read that covers only part of
  the victims (one namespace unreadable) returns what it read: every counter is a lower bound.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping

from harness.faults.base import ContainerEvents, EffectRule, FaultSpec, ProxyPathLive, ProxyTraffic, Reported

log = logging.getLogger(__name__)

EFFECT_READ_TIMEOUT_S = 5.0
"""Longest one fault's effect read may take (s). Every read normally takes milliseconds (an
``iptables -L`` ~10 ms per chain, a procfs file microseconds); 5 s is what a revert may be delayed
by when the engine or the xtables lock is slow, before the measurement is given up."""


class Deadline:
    """A monotonic deadline ``budget_s`` seconds from construction (for reads that loop over
    containers and should return what they have when time runs out)."""

    def __init__(self, budget_s: float):
        self.at = time.monotonic() + budget_s

    def remaining_s(self) -> float:
        """Seconds left, never below 0."""
        return max(0.0, self.at - time.monotonic())

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return self.remaining_s() <= 0.0


def _numbers(raw: object) -> dict[str, float]:
    """``raw`` as ``{str: finite float}``; anything else (a non-dict, a non-number, NaN) is
    dropped (booleans too: a flag is not a measurement)."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, float] = {}
    for key, value in raw.items():
        if isinstance(key, str) and isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                out[key] = float(value)
    return out


def bounded_read(read: Callable[[], Mapping[str, float]], what: str,
                 timeout_s: float = EFFECT_READ_TIMEOUT_S) -> dict[str, float]:
    """Run ``read()`` in a daemon thread and return its counters, or ``{}`` when it raised, did
    not return within ``timeout_s`` seconds (the thread is abandoned; it only reads), or returned
    something that is not a mapping of names to finite numbers (such entries are dropped).

    Args:
        read: the kind's measurement, e.g. ``lambda: {"matched_packets": 12}``.
        what: names the fault in the debug log line of a failed read.
        timeout_s: the bound, s (default :data:`EFFECT_READ_TIMEOUT_S`).

    Never raises.
    """
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = read()
        except Exception as exc:  # noqa: BLE001 - a measurement must never fail the revert
            box["error"] = exc

    worker = threading.Thread(target=run, name=f"effect-{what}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        log.debug("effect read of %s gave up after %.1f s", what, timeout_s)
        return {}
    if "error" in box:
        log.debug("effect read of %s failed: %s", what, box["error"])
        return {}
    return _numbers(box.get("value"))


# -- plain words for `harness faults` ---------------------------------------------------------

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
