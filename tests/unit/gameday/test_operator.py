"""The operator's timeline with fake faults' targets (no Docker, no Toxiproxy): injects and
reverts on command, journalled as a run's so that the windows come out unchanged; refusals
change nothing; the teardown reverts whatever is active."""

from __future__ import annotations

import pytest

from harness.analysis.windows import slice_windows
from harness.errors import EnvironmentFailure
from harness.faults import FaultContext
from harness.gameday.commands import CommandError
from harness.gameday.operator import OperatorTimeline
from harness.journal import Journal, read_events
from harness.scenario import load_scenario
from tests.unit.run.fakes import QUICKSTART
from tests.unit.test_timeline import Clock, FakeStack, FakeToxiproxy, events

T0 = 100.0
SERVICES = {"lb", "api", "catalog", "redis", "toxiproxy"}


def make(tmp_path, toxiproxy=None):
    scenario = load_scenario(QUICKSTART).scenario
    clock = Clock()
    journal = Journal(tmp_path, clock=clock)
    toxiproxy = toxiproxy or FakeToxiproxy()
    stack = FakeStack()
    tl = OperatorTimeline(scenario, SERVICES, lambda rng: FaultContext(toxiproxy, stack, rng), journal, 7, clock)
    return tl, clock, journal, toxiproxy, stack


def inject(tl, name, params=None):
    label = tl.inject(tl.spec_for(name, params or {}), T0)
    assert tl.wait_idle(5)
    return label


def revert(tl, name):
    label = tl.revert(name, T0)
    assert tl.wait_idle(5)
    tl.step(T0)
    return label


def names(journal):
    return [e["event"] for e in events(journal)]


def test_a_declared_fault_is_injected_and_reverted_on_command_and_journalled_as_a_runs(tmp_path):
    tl, clock, journal, tox, _ = make(tmp_path)
    journal.record("load.start", t=T0)
    clock.now = 112.0
    assert inject(tl, "catalog-slow") == "catalog-slow"
    assert tl.active() == ["catalog-slow"] and set(tox.toxics) == {("catalog", "harness-catalog-slow-downstream")}
    clock.now = 127.0
    assert revert(tl, "catalog-slow") == "catalog-slow"
    assert tl.active() == [] and tox.toxics == {}
    inj, rev = [e for e in events(journal) if e["event"] in ("fault.inject", "fault.revert")]
    assert (inj["fault"], inj["kind"], inj["offset_s"], inj["occurrence"]) == ("catalog-slow", "latency", 12.0, None)
    assert (rev["offset_s"], rev["touched"]) == (27.0, ["catalog/harness-catalog-slow-downstream"])
    clock.now = 135.0
    journal.record("load.stop", t=135.0)
    windows, _ = slice_windows(read_events(tmp_path))
    assert [(w.name, w.start_s, w.end_s) for w in windows] == [
        ("baseline", 0.0, 12.0), ("fault:catalog-slow", 12.0, 27.0), ("recovery:catalog-slow", 27.0, 35.0)]
    outcomes = [tl.outcomes.get_nowait() for _ in range(2)]
    assert [(o.action, o.ok) for o in outcomes] == [("inject", True), ("revert", True)]


def test_injecting_an_active_fault_is_refused_and_changes_nothing(tmp_path):
    tl, clock, journal, tox, _ = make(tmp_path)
    inject(tl, "catalog-slow")
    before, toxics = names(journal), dict(tox.toxics)
    with pytest.raises(CommandError, match="catalog-slow is active already"):
        tl.inject(tl.spec_for("catalog-slow", {}), T0)
    assert names(journal) == before and tox.toxics == toxics and len(tl.items) == 1


def test_reverting_a_fault_that_is_not_active_is_refused_and_changes_nothing(tmp_path):
    tl, clock, journal, tox, _ = make(tmp_path)
    with pytest.raises(CommandError, match=r"catalog-slow is not active \(active: none\)"):
        tl.revert("catalog-slow", T0)
    inject(tl, "catalog-slow")
    revert(tl, "catalog-slow")
    before = names(journal)
    with pytest.raises(CommandError, match="is not active"):
        tl.revert("catalog-slow", T0)
    assert names(journal) == before


def test_a_fault_injected_again_is_a_new_occurrence(tmp_path):
    tl, clock, journal, tox, _ = make(tmp_path)
    inject(tl, "catalog-slow")
    revert(tl, "catalog-slow")
    assert inject(tl, "catalog-slow") == "catalog-slow#2"
    assert [e["occurrence"] for e in events(journal) if e["event"] == "fault.inject"] == [None, 2]
    assert len(tl.injected_specs()) == 1


def test_the_declared_schedule_is_ignored(tmp_path):
    tl, *_ = make(tmp_path)
    spec = tl.spec_for("catalog-slow", {})
    assert (spec.at_s, spec.every_s, spec.latency_ms) == (0.0, None, 1500)


def test_unknown_names_are_refused(tmp_path):
    tl, *_ = make(tmp_path)
    with pytest.raises(CommandError, match=r"no fault named 'nope' \(declared: api-replica-killed, catalog-slow\)"):
        tl.spec_for("nope", {})


def test_an_ad_hoc_fault_is_validated_named_and_injected(tmp_path):
    tl, clock, journal, tox, _ = make(tmp_path)
    spec = tl.spec_for("latency", {"proxy": "redis", "latency_ms": 200})
    assert (spec.name, spec.kind, spec.proxy, spec.latency_ms) == ("latency-1", "latency", "redis", 200)
    assert inject(tl, "latency", {"proxy": "redis", "latency_ms": 200}) == "latency-1"
    assert ("redis", "harness-latency-1-downstream") in tox.toxics
    assert tl.spec_for("latency", {"proxy": "redis", "latency_ms": 300}).name == "latency-2"
    assert [s.name for s in tl.injected_specs()] == ["latency-1"]


@pytest.mark.parametrize("name, params, message", [
    ("wobble", {"x": 1}, r"unknown fault kind 'wobble' \(kinds: .*latency"),
    ("latency", {"proxy": "nowhere", "latency_ms": 5}, r"unknown proxy 'nowhere' \(proxies: catalog, redis\)"),
    ("latency", {"proxy": "catalog", "latency_ms": -5}, "latency_ms: Input should be greater than or equal to 0"),
    ("latency", {"proxy": "catalog"}, "latency_ms: Field required"),
    ("latency", {"proxy": "catalog", "latency_ms": 5, "colour": "red"}, "colour: Extra inputs are not permitted"),
    ("latency", {"proxy": "catalog", "latency_ms": 5, "at_s": 3}, "at_s: a game day's fault lasts from inject to revert"),
    ("kill", {"service": "nope", "count": 1}, "no service 'nope' in the compose file"),
    ("kill", {"service": "toxiproxy", "count": 1}, "is the harness's Toxiproxy"),
    ("latency", {"proxy": "catalog", "latency_ms": 5, "name": "catalog-slow"}, "the name 'catalog-slow' is taken"),
    ("catalog-slow", {"latency_ms": 5}, "'catalog-slow' is a declared fault"),
])
def test_an_invalid_ad_hoc_fault_is_one_line_and_changes_nothing(tmp_path, name, params, message):
    tl, clock, journal, tox, _ = make(tmp_path)
    with pytest.raises(CommandError, match=message) as caught:
        tl.spec_for(name, params)
    assert "\n" not in str(caught.value)
    assert tl.items == [] and tl.ad_hoc == {} and tox.toxics == {} and names(journal) == []


def test_an_ad_hoc_name_taken_by_other_parameters_is_refused(tmp_path):
    tl, *_ = make(tmp_path)
    inject(tl, "latency", {"proxy": "redis", "latency_ms": 200, "name": "r"})
    with pytest.raises(CommandError, match="the name 'r' is taken"):
        tl.spec_for("latency", {"proxy": "redis", "latency_ms": 900, "name": "r"})


def test_a_failed_inject_is_told_and_reverted_and_the_game_goes_on(tmp_path):
    tl, clock, journal, tox, _ = make(tmp_path, FakeToxiproxy(fail_add=True))
    inject(tl, "catalog-slow")
    tl.step(T0)  # does not raise: the game goes on
    outcome = tl.outcomes.get_nowait()
    assert (outcome.action, outcome.ok, outcome.error) == ("inject", False, "toxiproxy down")
    assert "fault.inject_failed" in names(journal) and tl.active() == []


def test_a_failed_revert_ends_the_game(tmp_path, monkeypatch):
    tl, clock, journal, tox, _ = make(tmp_path)
    inject(tl, "catalog-slow")
    monkeypatch.setattr(tl.items[0].fault, "revert", lambda: (_ for _ in ()).throw(EnvironmentFailure("gone")))
    tl.revert("catalog-slow", T0)
    tl.wait_idle(5)
    with pytest.raises(EnvironmentFailure, match="gone"):
        tl.step(T0)


def test_the_teardown_reverts_every_active_fault(tmp_path):
    tl, clock, journal, tox, stack = make(tmp_path)
    inject(tl, "catalog-slow")
    inject(tl, "api-replica-killed")
    assert sorted(tl.active()) == ["api-replica-killed", "catalog-slow"] and stack.killed
    tl.revert_all(T0)
    assert tl.active() == [] and tox.toxics == {}
    assert names(journal).count("fault.revert") == 2
