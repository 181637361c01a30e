"""How a fault's effect is proven: the bounded, never-raising effect read every kind uses, the
plain words ``harness faults`` shows per kind (table and ``--json``), and that every built-in kind
declares a way to prove it acted."""

from __future__ import annotations

import json
import threading
import time

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.faults import _effect
from harness.faults._effect import bounded_read
from harness.scenario.faults import ContainerEvents, FaultSpec, ProxyPathLive, ProxyTraffic, Reported, fault_spec_types
from harness.scenario.faults import describe as words
from harness.scenario.faults.describe import NEVER_PROVEN, describe_evidence, describe_kinds, describe_rule

# -- bounded_read -----------------------------------------------------------------------------------


def test_bounded_read_returns_the_numbers_of_a_good_read():
    assert bounded_read(lambda: {"matched_packets": 3, "throttled_s": 0.25}, "f") == {
        "matched_packets": 3.0, "throttled_s": 0.25}


@pytest.mark.parametrize("raw", [
    {"ok": 1, "text": "12", "flag": True, "nan": float("nan"), "inf": float("inf"), 3: 4, "none": None},
])
def test_bounded_read_drops_what_is_not_a_finite_number(raw):
    assert bounded_read(lambda: raw, "f") == {"ok": 1.0}


def test_bounded_read_gives_nothing_for_a_read_that_raises_or_returns_a_non_mapping():
    def boom():
        raise OSError("no such file")

    assert bounded_read(boom, "f") == {}
    assert bounded_read(lambda: [("matched_packets", 1)], "f") == {}  # type: ignore[arg-type, return-value]


def test_bounded_read_gives_up_after_its_timeout():
    release = threading.Event()

    def stuck():
        release.wait(10)
        return {"matched_packets": 1}

    started = time.monotonic()
    try:
        assert bounded_read(stuck, "f", timeout_s=0.2) == {}
        assert time.monotonic() - started < 2
    finally:
        release.set()
    assert _effect.EFFECT_READ_TIMEOUT_S <= 5


# -- plain words ----------------------------------------------------------------------------------


def test_each_rule_is_described_in_plain_words():
    assert describe_rule(ProxyTraffic()) == "traffic crossed its proxy while it was injected"
    assert "10 s before the inject" in describe_rule(ProxyPathLive())
    assert describe_rule(ContainerEvents(("die", "restart"))) == (
        "Docker reported a die or restart event for a container it touched")
    assert describe_rule(Reported("matched_packets")).startswith("its iptables rules matched at least 1 packet ")
    assert "at least 5 CFS periods" in describe_rule(Reported("throttled_periods", 5))
    assert describe_rule(Reported("queue_depth", 2.5)) == "it measured queue_depth >= 2.5"  # a plugin's key


def test_evidence_joins_the_rules_and_adds_the_path_condition():
    class Both(FaultSpec):
        effect_rules = (ContainerEvents(("oom",)), Reported("leaked_mib"))
        victim_in_path = True

    class Nothing(FaultSpec):
        pass

    text = describe_evidence(Both)
    assert text.startswith("Docker reported an oom event for a container it touched or its helpers held at least 1 MiB")
    assert text.endswith(words.IN_PATH_WORDS)
    assert describe_evidence(Nothing) == NEVER_PROVEN


def test_every_built_in_kind_can_prove_it_acted_and_its_counters_have_words():
    for spec in fault_spec_types():
        kind = spec.model_fields["kind"].default
        assert spec.effect_rules, f"{kind} has no effect rule: its windows would always be inconclusive"
        for rule in spec.effect_rules:
            if isinstance(rule, Reported):
                assert rule.key in words.COUNTER_WORDS, f"{kind}: no plain words for {rule.key}"


# -- describe_kinds and `harness faults` ------------------------------------------------------------


def test_describe_kinds_says_how_each_kind_is_proven():
    kinds = {k["kind"]: k for k in describe_kinds()}
    assert kinds["firewall"]["effect_rules"] == [{"rule": "reported", "key": "matched_packets", "at_least": 1.0}]
    assert kinds["firewall"]["victim_in_path"] is False
    assert "iptables rules matched" in kinds["firewall"]["effect_evidence"]
    assert kinds["kill"]["effect_rules"] == [{"rule": "container_events", "actions": ["die"]}]
    assert kinds["kill"]["effect_evidence"].endswith(words.IN_PATH_WORDS)
    assert kinds["timeout"]["effect_rules"] == [{"rule": "proxy_traffic"}]
    assert kinds["down"]["effect_rules"] == [{"rule": "proxy_path", "before_s": 10.0}]
    for k in kinds.values():
        assert k["effect_evidence"] == describe_evidence(next(
            s for s in fault_spec_types() if s.model_fields["kind"].default == k["kind"]))


def test_faults_command_shows_the_evidence_in_the_table_and_the_json(monkeypatch):
    import harness.cli

    # the table's width is the console's, fixed when harness.cli was first imported (by another
    # test, under whatever COLUMNS that process had): wide enough for whole cells here
    monkeypatch.setattr(harness.cli.out, "width", 400)
    runner = CliRunner()
    as_json = runner.invoke(app, ["faults", "--json"])
    assert as_json.exit_code == 0, as_json.output
    kinds = {k["kind"]: k for k in json.loads(as_json.output)["kinds"]}
    assert kinds["cpu"]["effect_rules"][0] == {"rule": "reported", "key": "throttled_periods", "at_least": 1.0}
    assert "CFS period" in kinds["cpu"]["effect_evidence"]
    table = runner.invoke(app, ["faults"], env={"COLUMNS": "400"})
    assert table.exit_code == 0, table.output
    assert "proven acted when" in table.output
    assert "its iptables rules matched at least 1 packet" in table.output


def test_timeout_summary_warns_about_servers_that_close_after_answering():
    kinds = {k["kind"]: k for k in describe_kinds()}
    assert "EMPTY reply" in kinds["timeout"]["summary"] and "blackhole" in kinds["timeout"]["summary"]
    assert "hang" in kinds["blackhole"]["summary"]
