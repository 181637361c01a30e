"""Requests in flight (harness.load.inflight), the live counters that keep the child's latest
``inflight`` event (LiveStats) and the live line that shows them (Progress.line)."""

import io

import pytest
from rich.console import Console

from harness.load.inflight import InFlight, merge_snapshots, tracked
from harness.load.stream import LiveStats
from harness.progress import Progress


class FakeClock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class Killed(BaseException):
    """Stands in for gevent's GreenletExit (a BaseException, not an Exception)."""


def test_the_oldest_request_in_flight_is_the_earliest_sent_still_open_whatever_order_they_end_in():
    clock = FakeClock()
    tracker = InFlight(clock)
    tickets = []
    for t in (1000.0, 1001.0, 1002.0):
        clock.now = t
        tickets.append(tracker.begin())
    assert tracker.snapshot() == {"n": 3, "oldest_start_s": 1000.0}
    tracker.end(tickets[1])  # out of order
    assert tracker.snapshot() == {"n": 2, "oldest_start_s": 1000.0}
    tracker.end(tickets[0])
    assert tracker.snapshot(offset_s=5.0) == {"n": 1, "oldest_start_s": 1007.0}  # into the master's clock
    tracker.end(tickets[2])
    tracker.end(tickets[2])  # twice: ignored
    assert tracker.snapshot() == {"n": 0, "oldest_start_s": None}


def test_call_counts_a_request_while_it_runs_and_a_killed_one_as_killed():
    tracker = InFlight(FakeClock())
    seen = []
    assert tracker.call(lambda x, y=0: seen.append(tracker.n) or x + y, 1, y=2) == 3
    assert seen == [1] and tracker.n == 0
    with pytest.raises(ValueError):
        tracker.call(lambda: (_ for _ in ()).throw(ValueError("refused")))
    assert tracker.n == 0 and tracker.killed == 0  # an exception is no kill

    def hang():
        raise Killed()

    with pytest.raises(Killed):
        tracker.call(hang)
    assert tracker.n == 0 and tracker.killed == 1


def test_a_request_begun_after_the_stop_and_killed_at_once_is_not_a_lost_one():
    clock = FakeClock()
    tracker = InFlight(clock)

    def hang():
        raise Killed()

    tracker.stopping()
    with pytest.raises(Killed):
        tracker.call(hang)  # Locust's kill of a user that was waiting, delivered inside its next request
    assert tracker.killed == 0 and tracker.killed_after_stop == 1


def test_a_tracked_session_method_counts_every_call_and_rewrapping_does_not_count_twice():
    first, second = InFlight(FakeClock()), InFlight(FakeClock())

    class Session:
        def request(self, method, url, **kw):
            return (first.n, second.n, method, url, kw)

    Session.request = tracked(Session.request, first)
    assert Session().request("GET", "/x", name="x") == (1, 0, "GET", "/x", {"name": "x"})
    Session.request = tracked(Session.request, second)
    assert Session().request("GET", "/y") == (0, 1, "GET", "/y", {})
    assert Session.request.__name__ == "request"


def test_workers_snapshots_merge_into_a_sum_and_the_earliest_start():
    merged = merge_snapshots([{"n": 2, "oldest_start_s": 1003.0}, {"n": 0, "oldest_start_s": None},
                              {"n": 5, "oldest_start_s": 1001.5}])
    assert merged == {"n": 7, "oldest_start_s": 1001.5}
    assert merge_snapshots([]) == {"n": 0, "oldest_start_s": None}


def test_live_stats_keep_the_latest_in_flight_event_and_age_its_oldest_request():
    stats = LiveStats()
    assert stats.in_flight == 0 and stats.oldest_in_flight_s(2000.0) is None
    stats.set_in_flight({"event": "inflight", "n": 12, "oldest_start_s": 1995.9})
    assert stats.in_flight == 12 and stats.oldest_in_flight_s(2000.0) == pytest.approx(4.1)
    stats.set_in_flight({"event": "inflight", "n": 0, "oldest_start_s": None})
    assert stats.in_flight == 0 and stats.oldest_in_flight_s(2000.0) is None
    stats.set_in_flight({"event": "inflight", "n": "x", "oldest_start_s": []})  # malformed: nothing
    assert stats.in_flight == 0 and stats.oldest_in_flight_s(2000.0) is None


def test_the_live_line_shows_requests_in_flight_and_the_oldest_ones_age():
    progress = Progress(Console(file=io.StringIO(), force_terminal=False), "s")
    progress._phase = "load running"
    line = progress.line(12.3, 60, 250.0, 0.0, [], 12, 4.1)
    assert line == ("load running  12.3/60 s |   250.0 rps | errors   0.0% | in flight 12 (oldest 4.1 s) | "
                    "active faults: none")
    assert "| in flight 0 |" in progress.line(1.0, 60, 0.0, 0.0, ["slow"], 0, None)
    out = io.StringIO()
    plain = Progress(Console(file=out, force_terminal=False, width=200), "s")
    plain.tick(1.0, 60, 10.0, 0.0, [], 3, 2.0)  # off a terminal: printed
    assert "in flight 3 (oldest 2.0 s)" in out.getvalue()


def test_the_flattened_wrapper_counts_in_flight_while_the_request_runs_and_its_kills():
    clock = FakeClock()
    tracker = InFlight(clock)
    seen = []

    class Session:
        def request(self, method, url, **kw):
            seen.append(tracker.snapshot())
            if kw.get("fail"):
                raise ValueError("refused")
            if kw.get("kill"):
                raise Killed()
            return method, url, kw

    Session.request = tracked(Session.request, tracker)
    assert Session().request("GET", "/a", name="a") == ("GET", "/a", {"name": "a"})
    assert seen == [{"n": 1, "oldest_start_s": 1000.0}] and tracker.n == 0
    with pytest.raises(ValueError):
        Session().request("GET", "/b", fail=True)
    assert tracker.n == 0 and tracker.killed == 0  # an exception is no kill
    with pytest.raises(Killed):
        Session().request("GET", "/c", kill=True)  # killed before the stop: lost
    assert tracker.n == 0 and (tracker.killed, tracker.killed_after_stop) == (1, 0)
    clock.now = 1001.0
    tracker.stopping()
    with pytest.raises(Killed):
        Session().request("GET", "/d", kill=True)  # begun at the stop, killed at once: not lost
    assert tracker.n == 0 and (tracker.killed, tracker.killed_after_stop) == (1, 1)


def test_the_wrapper_keeps_the_oldest_open_request_while_later_ones_end():
    clock = FakeClock()
    tracker = InFlight(clock)
    inner: list = []

    def request(depth):
        clock.now += 1.0
        if depth:
            request_in_flight(depth - 1)  # a later request that ends first
        inner.append(tracker.snapshot())

    request_in_flight = tracker.wrap(request)
    request_in_flight(2)
    assert inner == [{"n": 3, "oldest_start_s": 1000.0}, {"n": 2, "oldest_start_s": 1000.0},
                     {"n": 1, "oldest_start_s": 1000.0}]
    assert tracker.snapshot() == {"n": 0, "oldest_start_s": None}
