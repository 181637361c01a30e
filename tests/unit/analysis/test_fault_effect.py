"""Whether a fault acted, by each effect rule, and what is said when a source could not be read."""

from __future__ import annotations

import pandas as pd

from harness.analysis.containers import PROXY_COLUMNS, TrafficSeen
from harness.analysis.fault_effect import EffectView, Occurrence, judge_effect
from harness.faults.down import DownSpec
from harness.faults.firewall import FirewallSpec
from harness.faults.kill import KillSpec
from harness.faults.latency import LatencySpec

LATENCY = LatencySpec(name="slow", proxy="catalog", latency_ms=500, at_s=10, duration_s=10)
DOWN = DownSpec(name="gone", proxy="catalog", at_s=10, duration_s=10)
KILL = KillSpec(name="killed", service="api", at_s=10, duration_s=10)
OCC = Occurrence("slow", "fault:slow", 10.0, 10.0, 20.0, ["catalog/harness-slow-downstream"])


def view(traffic_rows=(), unavailable=None, events=(), stats=(), requests_per_s=50, watched=True):
    records = pd.DataFrame({"offset_s": [i / requests_per_s for i in range(30 * requests_per_s)]})
    return EffectView(
        TrafficSeen(pd.DataFrame(list(traffic_rows), columns=PROXY_COLUMNS), unavailable or {}, watched),
        pd.DataFrame(list(events), columns=["offset_s", "container", "service", "action"]),
        pd.DataFrame(list(stats), columns=["offset_s", "container", "service", "cpu_pct", "mem_mib", "rx_bytes",
                                           "tx_bytes"]),
        records)


def test_a_toxic_acted_when_traffic_crossed_its_proxy_in_the_window():
    crossed = view([(15.0, 14.5, "catalog", "sockets", 900, 100, 0, 2)])
    effect = judge_effect(LATENCY, OCC, crossed)
    assert effect.seen and "1000 bytes crossed" in effect.evidence
    accepted = judge_effect(LATENCY, OCC, view([(12.0, 11.5, "catalog", "log", 0, 0, 3, 2)]))
    assert accepted.seen and "accepted 3 connections" in accepted.evidence


def test_a_toxic_no_byte_reached_did_not_act_and_traffic_elsewhere_does_not_count():
    elsewhere = view([(15.0, 14.5, "redis", "sockets", 900, 100, 0, 2), (5.0, 4.5, "catalog", "sockets", 900, 0, 0, 2),
                      (25.0, 24.5, "catalog", "sockets", 900, 0, 0, 2)])
    effect = judge_effect(LATENCY, OCC, elsewhere)
    assert effect.acted is False and "no request went through it" in effect.evidence


def test_without_every_traffic_source_silence_is_unknown_not_a_miss():
    blind = view([], unavailable={"sockets": "reading Toxiproxy's sockets needs root"})
    effect = judge_effect(LATENCY, OCC, blind)
    assert effect.acted is None and "needs root" in effect.evidence
    unwatched = judge_effect(LATENCY, OCC, view([], watched=False))
    assert unwatched.acted is None and "did not watch" in unwatched.evidence


def test_down_acted_when_its_path_was_live_before_the_inject():
    occ = Occurrence("gone", "fault:gone", 10.0, 10.0, 20.0, ["catalog"])
    assert judge_effect(DOWN, occ, view([(8.0, 7.5, "catalog", "sockets", 100, 100, 0, 2)])).seen
    idle = judge_effect(DOWN, occ, view([(15.0, 14.5, "catalog", "sockets", 100, 100, 0, 2)]))
    assert idle.acted is False and "before the inject" in idle.evidence


def net(container, tx_per_s):
    return [(s + 0.5, container, container.rsplit("-", 1)[0], 1.0, 10.0, 0.0, tx_per_s * (s + 1)) for s in range(30)]


def test_a_kill_acted_when_docker_saw_the_victim_die_and_it_carried_requests():
    occ = Occurrence("killed", "fault:killed", 9.95, 10.0, 20.0, ["api-2"])
    died = [(9.97, "api-2", "api", "die")]
    effect = judge_effect(KILL, occ, view(events=died, stats=net("api-2", 5000)))
    assert effect.seen and effect.in_path and "die of api-2" in effect.evidence and "100 bytes per client request" \
        in effect.evidence
    aside = judge_effect(KILL, occ, view(events=died, stats=net("api-2", 50)))
    assert aside.acted is False and aside.in_path is False and "not on the path" in aside.evidence
    unseen = judge_effect(KILL, occ, view(events=[(9.97, "api-1", "api", "die")], stats=net("api-2", 5000)))
    assert unseen.acted is False and "Docker reported no die for api-2" in unseen.evidence
    unsampled = judge_effect(KILL, occ, view(events=died))
    assert unsampled.acted is None and "could not be told" in unsampled.evidence


def test_a_reported_effect_needs_its_counter():
    spec = FirewallSpec(name="fw", service="api", port=8080, at_s=10, duration_s=10)
    rule = spec.effect_rules[0]
    occ = Occurrence("fw", "fault:fw", 10.0, 10.0, 20.0, ["api-1"], {rule.key: 42.0})
    assert judge_effect(spec, occ, view()).seen
    none = Occurrence("fw", "fault:fw", 10.0, 10.0, 20.0, ["api-1"], {rule.key: 0.0})
    assert judge_effect(spec, none, view()).acted is False
    silent = Occurrence("fw", "fault:fw", 10.0, 10.0, 20.0, ["api-1"])
    assert judge_effect(spec, silent, view()).acted is None
