"""A worker's clock offset, NTP-style (harness.load.clock), and the graces of a load's end
(harness.load.timeouts)."""

import pytest

from harness.load.clock import (CLOCK_MAX_RTT_MS, ClockSample, best_sample, clock_refusal, clock_report,
                                shift_lines)
from harness.load.records import RequestRecord
from harness.load.timeouts import (STOP_HANDSHAKE_SLACK_S, WORKER_EXIT_TIMEOUT_S, child_end_grace_s,
                                   stop_handshake_timeout_s, stop_timeout_s)


def probe(true_offset_s: float, out_s: float, back_s: float, handling_s: float = 0.001, t1: float = 1000.0):
    """A probe sent at worker time t1, ``out_s`` to the master, ``back_s`` back."""
    t2 = t1 + true_offset_s + out_s
    t3 = t2 + handling_s
    t4 = t3 - true_offset_s + back_s
    return ClockSample(t1, t2, t3, t4)


def test_offset_and_round_trip_of_a_symmetric_probe_are_exact():
    s = probe(true_offset_s=5.0, out_s=0.002, back_s=0.002)
    assert s.offset_s == pytest.approx(5.0) and s.rtt_s == pytest.approx(0.004)


def test_an_asymmetric_probe_errs_by_at_most_half_its_round_trip_and_the_shortest_wins():
    slow = probe(-3.0, out_s=0.400, back_s=0.010)
    fast = probe(-3.0, out_s=0.003, back_s=0.001)
    for s in (slow, fast):
        assert abs(s.offset_s - -3.0) <= s.rtt_s / 2 + 1e-9
    assert best_sample([slow, fast, slow]) is fast and best_sample([]) is None
    report = clock_report(fast, probes=3)
    assert report == {"clock_offset_ms": pytest.approx(-2999.0, abs=0.01), "rtt_ms": pytest.approx(4.0), "probes": 3}


def test_the_master_refuses_an_unbounded_or_unmeasured_offset():
    assert clock_refusal(1, clock_report(probe(2.0, 0.01, 0.01), 5)) is None
    too_slow = clock_report(probe(2.0, 0.6, 0.6), 5)
    assert too_slow["rtt_ms"] > CLOCK_MAX_RTT_MS
    message = clock_refusal(1, too_slow)
    assert message.startswith("worker 1: its clock offset to the master cannot be bounded")
    assert "1200 ms > 1000 ms" in message
    assert "could not be measured" in clock_refusal(0, clock_report(None, 0))


def test_records_held_before_the_offset_was_known_are_shifted_and_events_kept():
    lines = ["R\t1000.250000\t12.500\tGET /p\t200\t\t42\n", 'E\t{"event": "ack", "name": "w", "id": "1"}\n']
    shifted = shift_lines(lines, 4.75)
    assert RequestRecord.decode(shifted[0][2:]) == RequestRecord(1005.0, 12.5, "GET /p", 200, "", 42)
    assert shifted[1] == lines[1]


def test_every_grace_of_the_end_covers_the_users_stop_timeout():
    assert stop_timeout_s(5) == pytest.approx(6.0)  # request_timeout_s + STOP_MARGIN_S
    assert stop_handshake_timeout_s(5) == stop_timeout_s(5) + STOP_HANDSHAKE_SLACK_S
    assert child_end_grace_s(300) >= stop_handshake_timeout_s(300) + WORKER_EXIT_TIMEOUT_S
