"""The game day's loop with a fake load driver and a fed line queue (no Docker, no Locust):
it applies and echoes commands, refuses bad ones changing nothing, and ends on ``end``, at the
end of the input, or at the load's cap, reverting whatever is active."""

from __future__ import annotations

import queue
import time
from types import SimpleNamespace

import pytest

from harness.faults import FaultContext
from harness.gameday import check_playable
from harness.gameday.drive import EOF, GameDay
from harness.gameday.operator import OperatorTimeline
from harness.errors import ScenarioError
from harness.run.parts import Started
from harness.scenario import load_scenario
from tests.unit.run import fakes
from tests.unit.run.fakes import CALLS, FakeDriver, FakePart, FakeProgress
from tests.unit.test_timeline import FakeStack, FakeToxiproxy


class Driver(FakeDriver):
    def request_stop(self):
        CALLS.append("driver.request_stop")
        return True


class Progress(FakeProgress):
    def __init__(self):
        super().__init__()
        self.shown: list[str] = []

    def show(self, line, refresh=False):
        self.shown.append(line)


@pytest.fixture
def game(tmp_path):
    CALLS.clear()
    run = fakes.prepared(tmp_path)
    toxiproxy = FakeToxiproxy()
    timeline = OperatorTimeline(run.scenario, {"lb", "api", "catalog", "redis"},
                                lambda rng: FaultContext(toxiproxy, FakeStack(), rng), run.journal, run.seed, time.time)
    driver = Driver(spec=SimpleNamespace(duration_s=75))
    driver.running = True
    started = Started(watchdog=FakePart("watchdog"), timeline=timeline, driver=driver, host="http://h",
                      t0=time.time())
    run.journal.record("load.start", t=started.t0)
    echoed: list[str] = []
    lines: queue.Queue = queue.Queue()
    return SimpleNamespace(run=run, started=started, toxiproxy=toxiproxy, echoed=echoed, lines=lines,
                           play=GameDay(lines, echoed.append), progress=Progress())


def feed(game, *lines, eof=False):
    for line in lines:
        game.lines.put(line + "\n")
    if eof:
        game.lines.put(EOF)


def play(game):
    game.play(game.run, game.started, game.progress)
    return [e["event"] for e in fakes.events(game.run.journal)]


def test_commands_are_applied_echoed_and_journalled_until_end(game):
    feed(game, "note starting the catalog drill", "inject catalog-slow", "status")
    feed(game, "revert catalog-slow", "end")
    # the revert may be read while the inject is in flight: wait for each action to land
    events = play(game)
    assert game.play.reason == "the end command"
    assert events.count("fault.inject") == 1 and events.count("fault.revert") == 1
    assert events[-2:] == ["gameday.end", "load.stop"] and "note" in events and events[0] == "load.start"
    [note] = [e for e in fakes.events(game.run.journal) if e["event"] == "note"]
    assert note["text"] == "starting the catalog drill" and note["t"] > 0
    assert CALLS == ["driver.request_stop", "driver.wait"]
    text = "\n".join(game.echoed)
    assert "inject catalog-slow: injecting latency proxy=catalog stream=downstream latency_ms=1500 jitter_ms=0" in text
    assert "inject catalog-slow: in place in" in text and "revert catalog-slow: reverted in" in text
    assert "status: active faults: catalog-slow" in text and "status: windows: baseline 0.0-" in text
    assert all(line[:9].endswith("Z") and line[2] == ":" for line in game.echoed)  # HH:MM:SSZ first
    assert game.progress.shown and "game day" in game.progress.shown[-1]


def test_a_bad_command_mid_game_is_one_error_line_and_changes_nothing(game):
    feed(game, "inject catalog-slow", "inject catalog-slow", "injekt api-replica-killed",
         "inject latency proxy=catalog latency_ms=-1", "revert api-replica-killed", "end")
    events = play(game)
    errors = [line for line in game.echoed if " error: " in line]
    assert len(errors) == 4 and all("\n" not in line for line in errors)
    assert "catalog-slow is active already" in errors[0] and "unknown command 'injekt'" in errors[1]
    assert "latency_ms: Input should be greater than or equal to 0" in errors[2]
    assert "api-replica-killed is not active" in errors[3]
    assert events.count("fault.inject") == 1 and events.count("fault.injecting") == 1  # only the good one
    commands = [e for e in fakes.events(game.run.journal) if e["event"] == "gameday.command"]
    assert [c["ok"] for c in commands] == [True, False, False, False, False, True]


def test_the_end_of_the_input_reverts_every_active_fault_and_ends(game):
    feed(game, "inject catalog-slow", "inject api-replica-killed", eof=True)
    events = play(game)
    assert game.play.reason == "end of input"
    assert events.count("fault.revert") == 2 and game.started.timeline.active() == []
    assert game.toxiproxy.toxics == {}
    assert "game over (end of input): reverting" in "\n".join(game.echoed)


def test_the_load_reaching_its_cap_ends_the_game(game):
    game.started.t0 -= 75
    events = play(game)
    assert game.play.reason == "the load reached load.duration_s (75 s)"
    assert events[-2:] == ["gameday.end", "load.stop"]


def test_a_load_that_ended_early_ends_the_game(game):
    game.started.driver.running = False
    play(game)
    assert game.play.reason == "the load ended early (see locust.log)"


def test_bytes_that_are_not_text_do_not_end_the_input(tmp_path):
    import io

    from harness.gameday.drive import read_lines

    lines: queue.Queue = queue.Queue()
    read_lines(io.TextIOWrapper(io.BytesIO(b"note caf\xe9\nend\n"), encoding="utf-8"), lines)
    assert [lines.get_nowait() for _ in range(3)] == ["note caf\ufffd\n", "end\n", None]


def test_expectations_on_faults_never_injected_are_not_judged(game):
    feed(game, "inject catalog-slow", "end")
    play(game)
    [end] = [e for e in fakes.events(game.run.journal) if e["event"] == "gameday.end"]
    assert end["unjudged"] == [
        "few errors while a replica is down (window fault:api-replica-killed: never injected)",
        "recovered after the kill (window recovery:api-replica-killed: never injected)"]
    assert "not judged: recovered after the kill" in game.echoed[-1]


def test_a_load_with_workers_cannot_be_played():
    loaded = load_scenario(fakes.QUICKSTART, ["load.workers=2"])
    with pytest.raises(ScenarioError, match="load.workers: harness gameday runs the load in one process"):
        check_playable(loaded)
