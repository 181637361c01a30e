"""The timeline with fake faults and a fake clock: order, journal entries, revert on failure,
injects and reverts off the scheduler thread."""

import json
import threading
import time

import pytest

from harness.errors import EnvironmentFailure
from harness.faults import FaultContext
from harness.faults.kill import KillFault, KillSpec
from harness.faults.latency import LatencySpec
from harness.journal import Journal
from harness.run.timeline import Timeline


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
    tl.settle(100.0)
    assert tox.toxics == {} and tl.next_due_s() == 5
    clock.now = 105.0
    tl.settle(100.0)
    assert sorted(n for _, n in tox.toxics) == ["harness-slow-downstream", "harness-slow-upstream"]
    assert tox.toxics[("catalog", "harness-slow-upstream")].attributes == {"latency": 300, "jitter": 0}
    assert tl.active() == ["slow"] and tl.next_due_s() == 15
    clock.now = 115.2
    tl.settle(100.0)
    assert tox.toxics == {} and tl.active() == []
    injecting, inject, revert = events(journal)
    assert (injecting["event"], injecting["offset_s"], injecting["fault"]) == ("fault.injecting", 5.0, "slow")
    assert (inject["event"], inject["offset_s"], inject["fault"]) == ("fault.inject", 5.0, "slow")
    assert (revert["event"], revert["offset_s"]) == ("fault.revert", 15.2)
    assert revert["touched"] == ["catalog/harness-slow-upstream", "catalog/harness-slow-downstream"]


def test_kill_victims_follow_the_seed_and_are_restarted(tmp_path):
    spec = KillSpec(name="k", service="api", count=2, at_s=0, duration_s=1)
    picks = []
    for _ in range(2):
        tl, clock, journal, _, stack = make(tmp_path, [spec], seed=11)
        tl.settle(100.0)
        picks.append(sorted(n for n, _ in stack.killed))
        assert all(sig == "SIGKILL" for _, sig in stack.killed)
        clock.now = 101.0
        tl.settle(100.0)
        assert stack.running == {"p-api-1", "p-api-2", "p-api-3"}
    assert picks[0] == picks[1] and len(picks[0]) == 2


def test_failed_inject_is_journalled_reverted_and_raised(tmp_path):
    lat = LatencySpec(name="slow", proxy="catalog", latency_ms=1, at_s=0, duration_s=1)
    tl, clock, journal, tox, _ = make(tmp_path, [lat], toxiproxy=FakeToxiproxy(fail_add=True))
    tl.step(100.0)  # starts the inject and returns: the failure surfaces on a later step
    assert tl.wait_idle(5)
    with pytest.raises(EnvironmentFailure, match="toxiproxy down"):
        tl.step(100.0)
    tl.step(100.0)  # raised once
    names = [e["event"] for e in events(journal)]
    assert names == ["fault.injecting", "fault.inject_failed", "fault.revert"]
    assert tl.active() == []


def test_revert_all_reverts_what_is_still_injected(tmp_path):
    spec = KillSpec(name="k", service="api", at_s=0, duration_s=100)
    tl, clock, journal, _, stack = make(tmp_path, [spec])
    tl.settle(100.0)
    assert len(stack.running) == 2
    tl.revert_all(100.0)
    tl.revert_all(100.0)  # idempotent
    assert len(stack.running) == 3
    assert [e["event"] for e in events(journal)] == ["fault.injecting", "fault.inject", "fault.revert"]


def test_kill_revert_is_safe_before_inject(tmp_path):
    fault = KillFault(KillSpec(name="k", service="api", at_s=0, duration_s=1), FaultContext(None, FakeStack()))
    assert fault.revert() == []


def test_intermittent_fault_injects_each_occurrence_with_its_own_victims(tmp_path):
    spec = KillSpec(name="k", service="api", at_s=0, duration_s=1, every_s=5, until_s=12)
    tl, clock, journal, _, stack = make(tmp_path, [spec])
    for now in (100.0, 101.0, 105.0, 106.0, 110.0, 111.0, 120.0):
        clock.now = now
        tl.settle(100.0)
    got = [(e["event"], e["occurrence"], e["offset_s"]) for e in events(journal) if e["event"] != "fault.injecting"]
    assert got == [
        ("fault.inject", 1, 0.0), ("fault.revert", 1, 1.0),
        ("fault.inject", 2, 5.0), ("fault.revert", 2, 6.0),
        ("fault.inject", 3, 10.0), ("fault.revert", 3, 11.0),
    ]
    assert len(stack.running) == 3 and tl.next_due_s() is None


# -- injects and reverts in worker threads --------------------------------------------------------


class FakeFault:
    """A fault at the edge: inject puts it half in place, waits on ``gate`` (at most
    ``hold_s`` seconds), then raises ``fail`` or completes. Revert fails ``revert_failures``
    times, then undoes it."""

    def __init__(self, hold_s=0.0, gate=None, fail=None, revert_failures=0, during_inject=None):
        self.hold_s, self.gate, self.fail = hold_s, gate, fail
        self.revert_failures = revert_failures
        self.during_inject = during_inject
        self.state = "clean"
        self.calls = []

    def inject(self):
        self.calls.append("inject")
        self.state = "half"
        if self.during_inject:
            self.during_inject()
        if self.gate is not None:
            self.gate.wait(self.hold_s)
        elif self.hold_s:
            time.sleep(self.hold_s)
        if self.fail is not None:
            raise self.fail
        self.state = "injected"
        return ["victim"]

    def revert(self):
        self.calls.append("revert")
        if self.revert_failures:
            self.revert_failures -= 1
            raise EnvironmentFailure("engine busy")
        self.state = "clean"
        return ["victim"]


def with_fakes(tmp_path, *fakes, at_s=(0, 0), duration_s=1):
    """A timeline of kill specs ``a``, ``b``... whose faults are replaced by ``fakes``."""
    specs = [KillSpec(name=name, service="api", at_s=at, duration_s=duration_s)
             for name, at, _ in zip("abc", at_s, fakes)]
    tl, clock, journal, _, _ = make(tmp_path, specs)
    for item, fake in zip(tl.items, fakes):
        item.fault = fake
    return tl, clock, journal


def names_of(journal, fault=None):
    return [e["event"] for e in events(journal) if fault is None or e.get("fault") == fault]


def test_a_slow_inject_does_not_block_step_nor_the_other_faults(tmp_path):
    gate = threading.Event()
    slow, quick = FakeFault(hold_s=5, gate=gate), FakeFault()
    tl, clock, journal = with_fakes(tmp_path, slow, quick, at_s=(0, 0.5))
    try:
        started = time.monotonic()
        tl.step(100.0)
        took_s = time.monotonic() - started
        assert took_s < 0.2, f"step blocked {took_s:.2f} s on an inject held up to 5 s"
        assert slow.calls == ["inject"] and tl.in_flight() == ["a"] and tl.active() == ["a"]
        assert names_of(journal) == ["fault.injecting"]
        clock.now = 100.5  # b is due while a is still being injected: b goes ahead
        tl.step(100.0)
        tl.items[1].worker.join(5)
        assert names_of(journal, "b") == ["fault.injecting", "fault.inject"] and tl.in_flight() == ["a"]
        clock.now = 101.0  # a's revert is due, but waits for its own inject to end
        started = time.monotonic()
        tl.step(100.0)
        assert time.monotonic() - started < 0.2
        assert slow.calls == ["inject"] and tl.next_due_s() == 1.5  # b's revert; a's is not startable
    finally:
        gate.set()
    assert tl.wait_idle(5)
    tl.settle(100.0)  # a's revert starts now that its inject ended
    assert slow.calls == ["inject", "revert"] and slow.state == "clean"
    assert names_of(journal, "a") == ["fault.injecting", "fault.inject", "fault.revert"]


def test_injecting_is_journalled_and_marked_before_the_call(tmp_path):
    seen = {}

    def look():
        seen["journal"] = names_of(journal)
        seen["active"] = tl.active()

    tl, clock, journal = with_fakes(tmp_path, FakeFault(during_inject=look))
    tl.settle(100.0)
    assert seen == {"journal": ["fault.injecting"], "active": ["a"]}


def test_an_inject_failing_half_way_is_reverted_at_once_then_raised(tmp_path):
    fake = FakeFault(fail=RuntimeError("boom"))  # not an EnvironmentFailure: a bug in a fault
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl.step(100.0)
    assert tl.wait_idle(5)
    assert fake.state == "clean" and tl.active() == []
    with pytest.raises(RuntimeError, match="boom"):
        tl.step(100.0)
    failed = [e for e in events(journal) if e["event"] == "fault.inject_failed"]
    assert failed[0]["error"] == "RuntimeError: boom" and "took_ms" in failed[0]
    tl.revert_all(100.0)
    assert fake.calls == ["inject", "revert"]  # nothing left to revert
    assert names_of(journal) == ["fault.injecting", "fault.inject_failed", "fault.revert"]


def test_revert_all_reverts_an_inject_that_failed_half_way_and_whose_revert_failed(tmp_path):
    fake = FakeFault(fail=EnvironmentFailure("stop failed"), revert_failures=1)
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl.step(100.0)
    assert tl.wait_idle(5)
    assert fake.state == "half" and tl.active() == ["a"]
    tl.revert_all(100.0)  # never raises
    assert fake.state == "clean" and tl.active() == []
    assert names_of(journal) == ["fault.injecting", "fault.inject_failed", "fault.revert_failed", "fault.revert"]


def test_revert_all_waits_for_an_in_flight_inject_then_reverts_it(tmp_path):
    gate = threading.Event()
    fake = FakeFault(hold_s=5, gate=gate)
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl.step(100.0)  # an interrupt arrives now, with the inject in flight
    threading.Timer(0.3, gate.set).start()
    started = time.monotonic()
    tl.revert_all(100.0, wait_s=5)
    assert time.monotonic() - started >= 0.25
    assert fake.calls == ["inject", "revert"] and fake.state == "clean"
    assert names_of(journal) == ["fault.injecting", "fault.inject", "fault.revert"]


def test_revert_all_reverts_an_inject_still_hung_after_its_wait(tmp_path):
    gate = threading.Event()
    fake = FakeFault(hold_s=5, gate=gate)
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl.step(100.0)
    try:
        started = time.monotonic()
        tl.revert_all(100.0, wait_s=0.2)
        assert time.monotonic() - started < 2
        assert fake.calls == ["inject", "revert"]  # cut short: reverted all the same
        stuck = [e for e in events(journal) if e["event"] == "timeline.wait_timeout"]
        assert stuck[0]["faults"] == ["a"] and stuck[0]["waited_s"] == 0.2
        assert names_of(journal)[-1] == "fault.revert"
    finally:
        gate.set()
        tl.wait_idle(5)


def test_an_inject_that_lands_after_its_teardown_revert_is_reverted_again(tmp_path):
    gate = threading.Event()
    fake = FakeFault(hold_s=5, gate=gate)
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl.step(100.0)
    threading.Timer(0.45, gate.set).start()  # the hung inject completes after the first revert ran
    tl.revert_all(100.0, wait_s=0.3)
    assert fake.calls == ["inject", "revert", "revert"] and fake.state == "clean"
    assert names_of(journal)[-2:] == ["fault.inject", "fault.revert"]


def test_revert_all_before_a_started_inject_ran_skips_the_inject(tmp_path):
    fake = FakeFault()
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl._closing = True  # teardown began between the mark and the worker's start
    tl.step(100.0)
    tl.revert_all(100.0)
    assert fake.calls == ["revert"] and names_of(journal) == ["fault.injecting", "fault.revert"]


def test_a_revert_journals_what_the_fault_measured_of_its_effect(tmp_path):
    fake = FakeFault()
    fake.effect_counters = lambda: {"matched_packets": 12}
    tl, clock, journal = with_fakes(tmp_path, fake)
    tl.settle(100.0)
    clock.now = 101.0
    tl.settle(100.0)
    revert = [e for e in events(journal) if e["event"] == "fault.revert"][0]
    assert revert["effect"] == {"matched_packets": 12}
