"""Did each fault act? The evidence, per fault window, that a verdict on it rests on.

A verdict on a fault window is only worth something if the fault changed something: a toxic on
a proxy no request crosses, a kill of a container nobody talks to, or a fault reverted before
any request, leaves every check free to "hold" while nothing was tested. So before any check
judges a window of a fault, the fault's own effect must have been seen, by the rules its kind
declares (:attr:`harness.scenario.faults.FaultSpec.effect_rules`, any one of them):

- :class:`~harness.scenario.faults.effect_rules.ProxyTraffic`: a connection accepted by the fault's proxy, or
  bytes that crossed one of its open connections, inside the fault window; with a
  ``toxicity`` below 1 (Toxiproxy rolls it per connection), enough connections for at least
  one to have been affected with 95 % probability (:func:`connections_needed`);
- :class:`~harness.scenario.faults.effect_rules.ProxyPathLive`: the same, in the ``before_s`` seconds before the
  inject (``down`` cuts a live path; nothing crosses a disabled proxy);
- :class:`~harness.scenario.faults.effect_rules.ContainerEvents`: Docker reported one of the actions for a
  container the fault touched, from the start of the inject call to the end of the window
  (plus :data:`EVENT_SLACK_S`);
- :class:`~harness.scenario.faults.effect_rules.Reported`: the fault's own measurement at revert (e.g. packets
  its iptables rules matched) reached the bound.

And, for kinds with ``victim_in_path``, the containers touched were on the requests' path: in
the :data:`IN_PATH_LOOKBACK_S` seconds before the inject they sent at least
:data:`IN_PATH_MIN_TX_BYTES_PER_REQUEST` bytes per client request (every answer to a request
that reaches a container carries at least an HTTP status line, ~17 bytes; a load balancer's
health checks alone stay well under one byte per request at the loads our scenarios run).

Each finding is ``acted`` True (seen, with the numbers), False (the sources were read and show
nothing) or None (a source the rule needs could not be read: the finding says which and how to
fix it). Anything but True makes the window's verdicts inconclusive. Pure: reads frames built
from the journal, never Docker.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from harness.analysis.containers import TrafficSeen, counter_rate
from harness.analysis.windows import Window
from harness.scenario.faults.effect_rules import ContainerEvents, ProxyPathLive, ProxyTraffic, Reported
from harness.journal import Event

EVENT_SLACK_S = 1.0
"""Docker events are stamped by the engine; this much after a window's end still counts."""
IN_PATH_LOOKBACK_S = 10.0
"""How far before the inject a victim's traffic is measured to tell whether it was on the path."""
IN_PATH_MIN_TX_BYTES_PER_REQUEST = 16.0
"""Bytes a victim must have sent per client request to count as on the requests' path."""
AFFECTED_CONFIDENCE = 0.95
"""With ``toxicity`` q < 1, a toxic counts as met only when the connections seen in its window
were enough that at least one of them was affected with this probability."""


def connections_needed(toxicity: float) -> int:
    """How many connections a toxic rolled per connection with probability ``toxicity`` (0..1]
    must meet so that at least one was affected with :data:`AFFECTED_CONFIDENCE`:
    the least n with ``(1 - toxicity) ** n <= 1 - AFFECTED_CONFIDENCE`` (1 for toxicity 1;
    5 for 0.5, 29 for 0.1).

    Raises:
        ValueError: ``toxicity`` not in (0, 1].
    """
    if not 0 < toxicity <= 1:
        raise ValueError(f"toxicity must be in (0, 1], got {toxicity}")
    if toxicity == 1:
        return 1
    return max(1, math.ceil(math.log(1 - AFFECTED_CONFIDENCE) / math.log(1 - toxicity) - 1e-9))


@dataclass(frozen=True)
class Occurrence:
    """One injected occurrence of a fault, from the journal: its ``window`` name, the offset
    the inject call started at (``inject_call_s``, s from the load's start), the window's
    bounds, what it touched and what it measured of its effect at revert (``effect``)."""

    fault: str
    window: str
    inject_call_s: float
    start_s: float
    end_s: float
    touched: list[str] = field(default_factory=list)
    effect: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FaultEffect:
    """Whether one fault occurrence acted: ``acted`` (True seen, False not seen, None could not
    be seen), ``evidence`` (one sentence with the numbers) and ``in_path`` (for container
    victims: whether they carried the requests, None when not asked or unknown)."""

    fault: str
    window: str
    acted: bool | None
    evidence: str
    in_path: bool | None = None

    @property
    def seen(self) -> bool:
        """True when the effect was seen (verdicts on the window may then hold)."""
        return self.acted is True


def occurrences(events: list[Event], t0: float, windows: list[Window]) -> dict[str, Occurrence]:
    """Fault window name -> :class:`Occurrence`, from the journal's ``fault.inject`` and
    ``fault.revert`` events and the sliced windows (offsets from ``t0``, epoch s)."""
    by_name = {w.name: w for w in windows if w.kind == "fault"}
    reverts = {(e.fields.get("fault"), e.fields.get("occurrence")): e for e in events if e.name == "fault.revert"}
    out = {}
    for e in events:
        if e.name != "fault.inject":
            continue
        occurrence = e.fields.get("occurrence")
        name = f"fault:{e.fields.get('fault')}" + (f"#{occurrence}" if occurrence else "")
        window = by_name.get(name)
        if window is None:
            continue
        revert = reverts.get((e.fields.get("fault"), occurrence))
        effect = (revert.fields.get("effect") or {}) if revert is not None else {}
        out[name] = Occurrence(str(e.fields.get("fault")), name, round(e.t - t0, 3), window.start_s, window.end_s,
                               [str(t) for t in e.fields.get("touched") or []],
                               {str(k): float(v) for k, v in effect.items() if isinstance(v, (int, float))})
    return out


@dataclass
class EffectView:
    """What :func:`judge_effect` reads: the proxy traffic seen, Docker events and container
    samples (frames of :mod:`harness.analysis.containers`), and the records (``offset_s``)."""

    traffic: TrafficSeen
    container_events: pd.DataFrame
    containers: pd.DataFrame
    records: pd.DataFrame

    def traffic_sources(self) -> tuple[bool, str]:
        """Whether every traffic source was read, and the reasons of those that were not."""
        if not self.traffic.watched:
            return False, "the run did not watch its proxies' traffic"
        missing = [f"{source}: {why}" for source, why in self.traffic.unavailable.items()]
        return not missing, "; ".join(missing)


def sent_per_request(samples: pd.DataFrame, records: pd.DataFrame, containers: list[str], start_s: float,
                     end_s: float) -> float | None:
    """Bytes the ``containers`` sent in ``[start_s, end_s)`` per client request that started
    then (``records`` with ``offset_s``): their ``tx_bytes`` rate
    (:func:`harness.analysis.containers.counter_rate`) times the interval, over the requests;
    None without a rate or without requests."""
    rate = counter_rate(samples, containers, "tx_bytes", start_s, end_s)
    offsets = records["offset_s"] if len(records) else pd.Series(dtype=float)
    requests = int(((offsets >= start_s) & (offsets < end_s)).sum())
    if rate is None or requests == 0:
        return None
    return rate * (end_s - start_s) / requests


def _proxy_rule(spec: Any, view: EffectView, start_s: float, end_s: float, where: str) -> tuple[bool | None, str]:
    seen = view.traffic.crossing(spec.proxy, start_s, end_s)
    toxicity = float(getattr(spec, "toxicity", 1.0) or 1.0)
    needed = connections_needed(toxicity)
    met = round(seen.accepted) + seen.open_connections
    crossed = (f"proxy {spec.proxy} accepted {seen.accepted:.0f} connections and {seen.bytes:.0f} bytes crossed its "
               f"open connections {where}")
    if (seen.accepted >= 1 or seen.bytes >= 1) and met >= needed:
        return True, crossed
    if seen.accepted >= 1 or seen.bytes >= 1:
        return False, (f"{crossed}, but with toxicity {toxicity:g} (rolled per connection) {met:.0f} connections are "
                       f"too few for one to have been affected (at least {needed} needed)")
    complete, missing = view.traffic_sources()
    if not complete:
        return None, (f"no traffic through proxy {spec.proxy} was seen {where}, but not every source could be read "
                      f"({missing})")
    return False, (f"no connection was accepted by proxy {spec.proxy} and no byte crossed its open connections "
                   f"{where}: no request went through it")


def _rule_finding(rule: Any, spec: Any, occ: Occurrence, view: EffectView) -> tuple[bool | None, str]:
    span = f"{occ.start_s:g}-{occ.end_s:g} s"
    if isinstance(rule, ProxyTraffic):
        return _proxy_rule(spec, view, occ.start_s, occ.end_s, f"during {occ.window} ({span})")
    if isinstance(rule, ProxyPathLive):
        start = max(0.0, occ.inject_call_s - rule.before_s)
        return _proxy_rule(spec, view, start, occ.inject_call_s, f"in the {occ.inject_call_s - start:g} s before the inject")
    if isinstance(rule, ContainerEvents):
        return _events_finding(rule, occ, view)
    if isinstance(rule, Reported):
        value = occ.effect.get(rule.key)
        if value is None:
            return None, f"the fault reported no {rule.key} at its revert"
        held = value >= rule.at_least
        return held, f"the fault measured {rule.key} = {value:g} while in place" + ("" if held else
                                                                                    f" (at least {rule.at_least:g} needed)")
    return None, f"unknown effect rule {type(rule).__name__}"


def _events_finding(rule: ContainerEvents, occ: Occurrence, view: EffectView) -> tuple[bool, str]:
    frame = view.container_events
    actions = "/".join(rule.actions)
    if frame.empty or not occ.touched:
        return False, f"Docker reported no {actions} for {', '.join(occ.touched) or 'any container'} during {occ.window}"
    rows = frame[frame["container"].isin(occ.touched) & frame["action"].isin(rule.actions)
                 & (frame["offset_s"] >= occ.inject_call_s - EVENT_SLACK_S) & (frame["offset_s"] <= occ.end_s + EVENT_SLACK_S)]
    if rows.empty:
        return False, f"Docker reported no {actions} for {', '.join(occ.touched)} during {occ.window}"
    seen = ", ".join(f"{r.action} of {r.container} at {r.offset_s:.1f} s" for r in rows.head(3).itertuples())
    return True, f"Docker reported {seen}"


def _in_path(occ: Occurrence, view: EffectView) -> tuple[bool | None, str]:
    start = max(0.0, occ.inject_call_s - IN_PATH_LOOKBACK_S)
    per_request = sent_per_request(view.containers, view.records, occ.touched, start, occ.inject_call_s)
    victims = ", ".join(occ.touched) or "the victims"
    if per_request is None:
        return None, (f"whether {victims} carried the requests could not be told (no network samples of them or no "
                      f"request in the {occ.inject_call_s - start:g} s before the inject)")
    if per_request < IN_PATH_MIN_TX_BYTES_PER_REQUEST:
        return False, (f"{victims} sent {per_request:.1f} bytes per client request before the inject (at least "
                       f"{IN_PATH_MIN_TX_BYTES_PER_REQUEST:g} for a container on the requests' path): not on the path")
    return True, f"{victims} sent {per_request:.0f} bytes per client request before the inject (on the path)"


def judge_effect(spec: Any, occ: Occurrence, view: EffectView) -> FaultEffect:
    """The :class:`FaultEffect` of one occurrence of the fault ``spec`` (a
    :class:`harness.scenario.faults.FaultSpec`), by its kind's ``effect_rules`` and ``victim_in_path``."""
    rules = tuple(getattr(spec, "effect_rules", ()))
    if not rules:
        return FaultEffect(occ.fault, occ.window, None, f"the harness cannot see the effect of a {spec.kind} fault")
    findings = [_rule_finding(rule, spec, occ, view) for rule in rules]
    seen = [text for acted, text in findings if acted is True]
    if not seen:
        acted = None if any(a is None for a, _ in findings) else False
        return FaultEffect(occ.fault, occ.window, acted, "; ".join(text for _, text in findings))
    if not getattr(spec, "victim_in_path", False):
        return FaultEffect(occ.fault, occ.window, True, seen[0])
    in_path, path_text = _in_path(occ, view)
    return FaultEffect(occ.fault, occ.window, True if in_path else in_path, f"{seen[0]}; {path_text}", in_path)


def fault_effects(specs: dict[str, Any], found: dict[str, Occurrence], view: EffectView) -> dict[str, FaultEffect]:
    """Fault window name -> :class:`FaultEffect` for every occurrence the scenario schedules
    (``specs``: fault name -> spec): judged for the injected ones (``found``), unknown for any
    that was never injected (a run that never reached it proved nothing about it)."""
    out = {name: judge_effect(specs[occ.fault], occ, view) for name, occ in found.items() if occ.fault in specs}
    for name, spec in specs.items():
        count = len(spec.occurrences())
        for k in range(1, count + 1):
            window = f"fault:{name}" + (f"#{k}" if count > 1 else "")
            if window not in out:
                out[window] = FaultEffect(name, window, None, f"{window} was never injected (no fault.inject in the "
                                                              "journal)")
    return out
