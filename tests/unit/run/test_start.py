"""The start phase with fakes at the edges: what it starts, in what order, what it journals and
ledgers, and what it pushes for undo (also when a start fails half-way)."""

from __future__ import annotations

import json

import pytest

from harness.errors import EnvironmentFailure
from harness.run import start as start_module
from harness.run.parts import Started
from harness.run.undo import UndoStack
from tests.unit.run import fakes
from tests.unit.run.fakes import CALLS, FakeDriver, FakePart, FakeProgress, FakeStack, FakeTimeline, FakeToxiproxy

GRACEFUL = ["watchdog.stop", "timeline.revert_all", "monitor.stop", "proxy_watch.stop", "driver.stop", "logs.save",
            "stack.down"]
FAST = ["monitor.stop", "proxy_watch.stop", "driver.stop", "logs.save", "stack.down"]


WATCHDOG_CLIENTS: list = []
"""The Docker client each Watchdog was given (made by the stack's containers, or None)."""


@pytest.fixture(autouse=True)
def edges(monkeypatch):
    """Every part the start phase makes is a fake."""
    CALLS.clear()
    FakeStack.fail = None
    monkeypatch.setattr(start_module, "Stack", FakeStack)
    monkeypatch.setattr(start_module, "ToxiproxyClient", FakeToxiproxy)
    monkeypatch.setattr(start_module, "LoadDriver", FakeDriver)
    monkeypatch.setattr(start_module, "Monitor", lambda *a: FakePart("monitor"))
    def watchdog(url, make_client=None):
        WATCHDOG_CLIENTS.append(make_client(3.0) if make_client is not None else None)
        return FakePart("watchdog")

    WATCHDOG_CLIENTS.clear()
    monkeypatch.setattr(start_module, "Watchdog", watchdog)
    monkeypatch.setattr(start_module, "Timeline", FakeTimeline)

    def watch(stack, scenario, journal):
        CALLS.append("proxy_watch.start")
        return FakePart("proxy_watch")

    monkeypatch.setattr(start_module, "watch_proxies", watch)
    yield
    FakeStack.fail = None


def run_start(tmp_path, shared=None, before_down=None):
    run = fakes.prepared(tmp_path)
    started, undo = Started(), UndoStack()
    failure = None
    try:
        start_module.start(run, started, undo, FakeProgress(), on_up=lambda: CALLS.append("on_up"), shared=shared,
                           before_down=before_down)
    except EnvironmentFailure as exc:
        failure = exc
    return run, started, undo, failure


def test_everything_starts_in_order_and_the_load_starts_last(tmp_path):
    run, started, _, failure = run_start(tmp_path)
    assert failure is None
    assert CALLS == ["stack.up", "on_up", "toxiproxy.wait_ready", "driver.spawn", "proxy_watch.start",
                     "stack.wait_healthy", "monitor.start", "watchdog.start", "driver.start"]
    assert started.host == "http://127.0.0.1:38080"  # the load host, as compose published it
    assert started.environment == {"toxiproxy": "2.12.0", "images": {"lb": "sha256:1"}}


def test_the_watchdog_probes_the_runs_engine_with_a_client_its_containers_made(tmp_path):
    """No engine resolved again and no version handshake: the stack's containers make the client."""
    run_start(tmp_path)
    assert len(WATCHDOG_CLIENTS) == 1 and WATCHDOG_CLIENTS[0] is not None
    assert WATCHDOG_CLIENTS[0].timeout == 3.0


def test_each_undo_is_pushed_as_its_part_starts_in_the_teardown_order(tmp_path):
    run, started, undo, _ = run_start(tmp_path)
    assert undo.names() == GRACEFUL
    assert [name for name, _ in undo.fast_steps()] == FAST


def test_it_journals_the_proxies_and_the_load_start_and_ledgers_the_load_child(tmp_path):
    run, started, _, _ = run_start(tmp_path)
    events = fakes.events(run.journal)
    assert [e["event"] for e in events] == ["proxy.create", "proxy.create", "load.start"]
    assert [e["proxy"] for e in events[:2]] == ["catalog", "redis"]
    assert events[-1]["t"] == pytest.approx(started.t0, abs=1e-3) and events[-1]["host"] == started.host and events[-1]["users"] == 10
    ledger = [json.loads(line) for line in (tmp_path / "ledger.jsonl").read_text().splitlines()]
    assert [e["undo"] for e in ledger if e["undo"] == "kill_pid"] == ["kill_pid"]
    assert next(e for e in ledger if e["undo"] == "kill_pid")["pid"] == FakeDriver.pid


def test_a_failed_health_wait_leaves_exactly_what_was_started_to_undo(tmp_path):
    FakeStack.fail = "wait_healthy"
    run, started, undo, failure = run_start(tmp_path)
    assert str(failure) == "wait_healthy failed"
    assert undo.names() == ["proxy_watch.stop", "driver.stop", "logs.save", "stack.down"]
    assert started.monitor is None and started.timeline is None and started.watchdog is None
    assert "load.start" not in [e["event"] for e in fakes.events(run.journal)]


def test_a_stack_that_does_not_come_up_is_still_taken_down(tmp_path):
    FakeStack.fail = "up"
    _, started, undo, failure = run_start(tmp_path)
    assert failure is not None and started.driver is None
    assert undo.names() == ["logs.save", "stack.down"] and CALLS == ["stack.up"]  # no warm-up either


def test_the_load_spec_carries_the_scenario_the_host_and_the_seed(tmp_path):
    run = fakes.prepared(tmp_path)
    spec = start_module.load_spec(run.scenario, "http://127.0.0.1:1", 7)
    assert (spec.host, spec.seed, spec.users, spec.duration_s) == ("http://127.0.0.1:1", 7, 10, 75)
    assert [(r["name"], r["weight"]) for r in spec.requests] == [("GET /products/{id}", 8), ("POST /orders", 2)]
    assert spec.locustfile is None


def test_resolve_host_maps_a_service_to_its_published_port_and_leaves_others_alone(tmp_path):
    stack = FakeStack(None, None, "r", tmp_path, None)
    assert start_module.resolve_host("http://lb:8080/x?y=1", stack) == "http://127.0.0.1:38080/x?y=1"
    assert start_module.resolve_host("http://api", stack) == "http://127.0.0.1:30080"
    assert start_module.resolve_host("https://example.org:8443", stack) == "https://example.org:8443"
    stack.containers.address = "build-7.example.com"  # a remote engine: its ports are dialled at its host
    assert start_module.resolve_host("http://lb:8080/x?y=1", stack) == "http://build-7.example.com:38080/x?y=1"


def test_a_shared_stack_comes_up_once_and_each_run_resets_it_instead_of_taking_it_down(tmp_path):
    from harness.run.shared import SharedStack

    shared = SharedStack(tmp_path / "stack")
    first, started1, undo1, _ = run_start(tmp_path / "cell-1", shared)
    assert CALLS[0] == "stack.up" and shared.stack is started1.stack
    assert undo1.names() == [*GRACEFUL[:-2], "logs.save", "stack.reset"]
    assert shared.running_when_healthy == {"shop-api-1", "shop-lb-1"}
    CALLS.clear()
    second, started2, undo2, _ = run_start(tmp_path / "cell-2", shared)
    assert "stack.up" not in CALLS and "stack.wait_healthy" in CALLS
    assert started2.stack is started1.stack and started2.stack.journal is second.journal
    assert started2.stack.compose.log_path == tmp_path / "cell-2" / "compose.log"
    assert undo2.names() == [*GRACEFUL[:-2], "logs.save", "stack.reset"]
    shared_event = [e for e in fakes.events(second.journal) if e["event"] == "stack.shared"]
    assert shared_event == [{**shared_event[0], "project": started1.stack.project, "runs_before": 1}]


class FakeWarmChild:
    discarded = 0

    def discard(self):
        FakeWarmChild.discarded += 1


def test_a_shared_stacks_warm_load_child_goes_to_the_next_run_and_its_last_run_takes_the_stack_down(tmp_path):
    from harness.run.shared import SharedStack

    shared = SharedStack(tmp_path / "stack")
    first, _, undo1, _ = run_start(tmp_path / "cell-1", shared, before_down=lambda: None)
    assert "driver.spawn" in CALLS  # nothing warm yet: a child of its own
    assert undo1.names()[-2:] == ["logs.save", "stack.reset"]  # more runs follow: no report.ahead, no down
    shared.warm_load = FakeWarmChild()  # what prewarm_load leaves for the next run
    shared.more_runs = False
    CALLS.clear()
    _, _, undo2, _ = run_start(tmp_path / "cell-2", shared, before_down=lambda: None)
    assert "driver.spawn(warm)" in CALLS and shared.warm_load is None
    assert undo2.names()[-3:] == ["logs.save", "report.ahead", "stack.down"]  # as a run with its own stack
    shared.prewarm_load()  # the last run spawns nothing ahead
    assert shared.warm_load is None
    shared.warm_load = FakeWarmChild()
    shared.close()  # an unused warm child is ended with the stack
    assert FakeWarmChild.discarded == 1 and shared.warm_load is None and shared.stack is None
