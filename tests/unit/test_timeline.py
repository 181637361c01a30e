"""The timeline with fake faults and a fake clock: order, journal entries, revert on failure."""

import json

import pytest

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext
from harness.faults.kill import KillFault, KillSpec
from harness.faults.latency import LatencySpec
from harness.journal import Journal
from harness.timeline import Timeline


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class FakeToxiproxy:
    def __init__(self, fail_add=False):
        self.toxics = {}
        self.fail_add = fail_add

    def add_toxic(self, proxy, toxic):
        if self.fail_add:
            raise EnvironmentFailure("toxiproxy down")
        self.toxics[(proxy, toxic.name)] = toxic

    def remove_toxic(self, proxy, name):
        return self.toxics.pop((proxy, name), None) is not None


class FakeStack:
    def __init__(self):
        self.running = {"p-api-1", "p-api-2", "p-api-3"}
        self.killed = []

    def running_containers(self, service):
        return sorted(self.running)

    def kill(self, name, signal):
        self.killed.append((name, signal))
        self.running.discard(name)

    def start(self, name):
        if name in self.running:
            return False
        self.running.add(name)
        return True


def events(journal):
    return [json.loads(l) for l in journal.path.read_text().splitlines()]


def make(tmp_path, specs, toxiproxy=None, stack=None, seed=7):
    clock = Clock()
    journal = Journal(tmp_path, clock=clock)
    toxiproxy = toxiproxy or FakeToxiproxy()
    stack = stack or FakeStack()
    tl = Timeline(specs, lambda rng: FaultContext(toxiproxy, stack, rng), journal, seed, clock)
    return tl, clock, journal, toxiproxy, stack


def test_faults_inject_and_revert_on_schedule(tmp_path):
    lat = LatencySpec(name="slow", proxy="catalog", latency_ms=300, stream="both", at_s=5, duration_s=10)
    tl, clock, journal, tox, _ = make(tmp_path, [lat])
    clock.now = 104.9
    tl.step(100.0)
    assert tox.toxics == {} and tl.next_due_s() == 5
    clock.now = 105.0
    tl.step(100.0)
    assert sorted(n for _, n in tox.toxics) == ["harness-slow-downstream", "harness-slow-upstream"]
    assert tox.toxics[("catalog", "harness-slow-upstream")].attributes == {"latency": 300, "jitter": 0}
    assert tl.active() == ["slow"] and tl.next_due_s() == 15
    clock.now = 115.2
    tl.step(100.0)
    assert tox.toxics == {} and tl.active() == []
    inject, revert = events(journal)
    assert (inject["event"], inject["offset_s"], inject["fault"]) == ("fault.inject", 5.0, "slow")
    assert (revert["event"], revert["offset_s"]) == ("fault.revert", 15.2)
    assert revert["touched"] == ["catalog/harness-slow-upstream", "catalog/harness-slow-downstream"]


def test_kill_victims_follow_the_seed_and_are_restarted(tmp_path):
    spec = KillSpec(name="k", service="api", count=2, at_s=0, duration_s=1)
    picks = []
    for _ in range(2):
        tl, clock, journal, _, stack = make(tmp_path, [spec], seed=11)
        tl.step(100.0)
        picks.append(sorted(n for n, _ in stack.killed))
        assert all(sig == "SIGKILL" for _, sig in stack.killed)
        clock.now = 101.0
        tl.step(100.0)
        assert stack.running == {"p-api-1", "p-api-2", "p-api-3"}
    assert picks[0] == picks[1] and len(picks[0]) == 2


def test_failed_inject_is_journalled_reverted_and_raised(tmp_path):
    lat = LatencySpec(name="slow", proxy="catalog", latency_ms=1, at_s=0, duration_s=1)
    tl, clock, journal, tox, _ = make(tmp_path, [lat], toxiproxy=FakeToxiproxy(fail_add=True))
    with pytest.raises(EnvironmentFailure, match="toxiproxy down"):
        tl.step(100.0)
    names = [e["event"] for e in events(journal)]
    assert names == ["fault.inject_failed", "fault.revert"]
    assert tl.active() == []


def test_revert_all_reverts_what_is_still_injected(tmp_path):
    spec = KillSpec(name="k", service="api", at_s=0, duration_s=100)
    tl, clock, journal, _, stack = make(tmp_path, [spec])
    tl.step(100.0)
    assert len(stack.running) == 2
    tl.revert_all(100.0)
    tl.revert_all(100.0)  # idempotent
    assert len(stack.running) == 3
    assert [e["event"] for e in events(journal)] == ["fault.inject", "fault.revert"]


def test_kill_revert_is_safe_before_inject(tmp_path):
    fault = KillFault(KillSpec(name="k", service="api", at_s=0, duration_s=1), FaultContext(None, FakeStack()))
    assert fault.revert() == []


def test_intermittent_fault_injects_each_occurrence_with_its_own_victims(tmp_path):
    spec = KillSpec(name="k", service="api", at_s=0, duration_s=1, every_s=5, until_s=12)
    tl, clock, journal, _, stack = make(tmp_path, [spec])
    for now in (100.0, 101.0, 105.0, 106.0, 110.0, 111.0, 120.0):
        clock.now = now
        tl.step(100.0)
    got = [(e["event"], e["occurrence"], e["offset_s"]) for e in events(journal)]
    assert got == [
        ("fault.inject", 1, 0.0), ("fault.revert", 1, 1.0),
        ("fault.inject", 2, 5.0), ("fault.revert", 2, 6.0),
        ("fault.inject", 3, 10.0), ("fault.revert", 3, 11.0),
    ]
    assert len(stack.running) == 3 and tl.next_due_s() is None
