"""bench/fault_onset.py: the onset of an inject from synthetic records: found, clamped at the
scheduled time, a negative onset flagged as a failed measurement, nothing seen -> None; and
the three kinds' notions of "met the fault" (latency, kill, pause)."""

from __future__ import annotations

import numpy as np
import pytest

from bench.fault_onset import (GUARD_S, HELD_MS, TOLERANCE_S, Inject, base_latency_ms, before_injects, kill_moments,
                               latency_moments, onset_of, onsets, pause_moments)

T = 1_000.0  # scheduled inject (epoch s)
R = T + 0.5  # scheduled revert


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=float)


def test_the_onset_is_the_first_moment_after_the_scheduled_time():
    seen = arr(T + 0.012, T + 0.004, T + 0.3)
    assert onset_of(seen, seen, T, R) == (4.0, None)


def test_nothing_before_the_scheduled_time_is_looked_back_at():
    # a moment before the guard (a previous fault's) is neither a candidate nor evidence
    seen = arr(T - GUARD_S - 0.05, T + 0.007)
    assert onset_of(seen, seen, T, R) == (7.0, None)


def test_a_moment_within_the_clock_resolution_before_is_clamped_to_zero():
    seen = arr(T - TOLERANCE_S / 2, T + 0.01)
    assert onset_of(seen, seen, T, R) == (0.0, None)


def test_a_negative_onset_is_a_failed_measurement():
    seen = arr(T - 0.003, T + 0.005)
    onset, failure = onset_of(seen, seen, T, R)
    assert onset == pytest.approx(-3.0) and "negative onset" in failure


def test_no_request_meeting_the_fault_gives_none():
    assert onset_of(arr(), arr(), T, R)[0] is None
    late = arr(R + 0.01)  # after the revert: not this inject's
    onset, failure = onset_of(late, late, T, R)
    assert onset is None and "no request" in failure


def test_latency_moments_subtract_the_latency_from_late_requests_only():
    start = arr(T - 0.1, T + 0.002, T + 0.006)
    duration = arr(2.0, 302.5, 250.0)  # 2 ms: not delayed; 302.5 and 250 (>= 80 % of 300) are
    seen, shown = latency_moments(start, duration, 300.0)
    assert seen.tolist() == pytest.approx([T + 0.0045, T - 0.044])
    assert shown is seen


def test_kill_moments_are_when_requests_failed():
    start = arr(T - 0.01, T + 0.003, T + 0.007)
    seen, shown = kill_moments(start, arr(1.0, 0.2, 0.1), np.array(["", "connection_refused", "connection_reset"]))
    assert shown is seen
    assert seen.tolist() == pytest.approx([T + 0.0032, T + 0.0071])


def ok(n: int) -> np.ndarray:
    return np.full(n, "", dtype=object).astype(str)


def test_pause_moments_are_when_held_requests_were_due():
    start = arr(T - 0.004, T + 0.002, T + 0.006)
    seen, shown = pause_moments(start, arr(1.5, HELD_MS + 300, 50.0), ok(3), base_ms=1.5, sure_ms=5.0)
    assert seen.tolist() == pytest.approx([T + 0.0035]) and shown.tolist() == pytest.approx([T + 0.007])


def test_a_held_request_is_not_due_before_an_answer_to_an_earlier_one():
    # the client was behind: the request intended at T - 4 ms was answered at T + 70 ms, so the
    # one intended at T was not due before then (its intended time is earlier than its send)
    start = arr(T - 0.004, T, T + 0.004)
    seen, shown = pause_moments(start, arr(74.0, 400.0, 396.0), ok(3), base_ms=2.0, sure_ms=5.0)
    assert seen.tolist() == pytest.approx([T + 0.070, T + 0.070])
    assert onset_of(seen, shown, T, R) == (70.0, None)
    # a failed earlier request's moment is not an answer
    seen, _ = pause_moments(start, arr(74.0, 400.0, 396.0), np.array(["connection_reset", "", ""]), 2.0, 5.0)
    assert seen.tolist() == pytest.approx([T + 0.002, T + 0.006])


def test_a_pause_held_request_in_flight_at_the_scheduled_time_is_no_evidence():
    # due (median) before T but not surely (p99) before it: in flight when the fault came
    start = arr(T - 0.003, T + 0.008)
    seen, shown = pause_moments(start, arr(400.0, 390.0), ok(2), base_ms=2.0, sure_ms=5.0)
    assert onset_of(seen, shown, T, R) == (10.0, None)


def test_a_stall_before_the_scheduled_time_is_a_failed_measurement():
    # held from 60 ms before the fault: the traffic had stalled before it could act
    start = np.arange(T - 0.060, T + 0.030, 0.004)
    seen, shown = pause_moments(start, np.full(start.size, 400.0), ok(start.size), base_ms=2.0, sure_ms=5.0)
    onset, failure = onset_of(seen, shown, T, R)
    assert onset == pytest.approx(-55.0) and "negative" in failure


def test_base_latency_leaves_out_failed_and_held_requests():
    duration, error = arr(1.0, 2.0, 3.0, 500.0, 0.1), np.array(["", "", "", "", "connection_refused"])
    assert base_latency_ms(duration, error) == 2.0 and base_latency_ms(duration, error, 99) == 3.0
    assert base_latency_ms(arr(), np.array([], dtype=str)) is None


def test_the_base_is_taken_just_before_each_inject():
    injects = [Inject("f", "pause", 1, T, R), Inject("f", "pause", 2, T + 1, R + 1)]
    start = arr(T - GUARD_S - 0.01, T - 0.1, T, T + 0.9, T + 0.95)
    assert before_injects(start, injects).tolist() == [False, True, False, True, True]


def test_onsets_per_inject_and_kind():
    kill, pause = Inject("killed", "kill", 1, T, T + 0.4), Inject("frozen", "pause", 1, T + 1.2, T + 1.6)
    late_kill = Inject("killed", "kill", 2, T + 2.4, T + 2.8)
    start = np.concatenate([np.arange(T - 0.5, T + 3.0, 0.004)])
    duration = np.full(start.size, 2.0)
    error = np.full(start.size, "", dtype=object)
    down = (start >= T + 0.005) & (start < T + 0.4)  # refused from 5 ms after the kill
    error[down], duration[down] = "connection_refused", 0.1
    frozen = (start >= T + 1.2 - 0.001) & (start < T + 1.6)  # held until the thaw
    duration[frozen] = (T + 1.6 - start[frozen]) * 1000 + 1.0
    found = onsets([kill, pause, late_kill], start, duration, error.astype(str), {("killed", 2)})
    assert found[0].failed is None and 5.0 <= found[0].onset_ms < 10.0
    assert found[1].failed is None and 0.0 <= found[1].onset_ms < 6.0
    assert found[2].onset_ms is None and "inject call failed" in found[2].failed


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        onsets([Inject("x", "dns", 1, T, R)], arr(T), arr(1.0), np.array([""]))
