"""Open-model scheduling arithmetic: intended send times exactly 1/rate apart, no drift,
rate changes, and worker shares that interleave into one sequence."""

import pytest

from harness.load.open_model import (
    ArrivalSchedule,
    expected_arrivals,
    interleave_offset_s,
    worker_rate_rps,
)


def test_arrivals_are_exactly_one_over_rate_apart_and_due_only_when_their_time_has_come():
    s = ArrivalSchedule(rate_rps=4, start_s=100.0)
    assert s.due(99.99) == []
    assert s.due(100.0) == [100.0]
    assert s.due(100.6) == [100.25, 100.5]
    assert s.due(100.6) == []  # never handed out twice
    assert s.next_at() == 100.75
    assert s.emitted == 3


def test_no_drift_after_a_million_arrivals():
    s = ArrivalSchedule(rate_rps=3000, start_s=1_700_000_000.0)
    times = s.due(1_700_000_000.0 + 999_999.5 / 3000)
    assert len(times) == 1_000_000
    # computed from the start, not accumulated: the last one is where it must be
    assert times[-1] == pytest.approx(1_700_000_000.0 + 999_999 / 3000, abs=1e-6)
    gaps = [b - a for a, b in zip(times[:1000], times[1:1001])]
    assert max(gaps) - min(gaps) < 1e-6


def test_a_late_scheduler_gets_every_missed_arrival_with_its_intended_time():
    s = ArrivalSchedule(rate_rps=100, start_s=0.0)
    late = s.due(2.0)  # the process was stalled for 2 s
    assert len(late) == 201 and late[100] == pytest.approx(1.0)


def test_retarget_keeps_the_next_arrival_and_respaces_the_rest():
    s = ArrivalSchedule(rate_rps=10, start_s=0.0)
    s.due(0.25)  # 0.0, 0.1, 0.2
    s.retarget(20)
    assert s.due(0.5) == pytest.approx([0.3, 0.35, 0.4, 0.45, 0.5])
    assert s.emitted == 8


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        ArrivalSchedule(rate_rps=0, start_s=0.0)
    with pytest.raises(ValueError):
        ArrivalSchedule(rate_rps=1, start_s=0.0).retarget(-1)


def test_worker_share_follows_its_users():
    assert worker_rate_rps(1000, 5, 10) == 500
    assert worker_rate_rps(1000, 3, 10) == 300
    assert worker_rate_rps(1000, 0, 10) == 0
    assert worker_rate_rps(1000, 12, 10) == 1000  # never more than the whole rate


def test_equal_workers_interleave_into_one_sequence_spaced_one_over_rate():
    rate, workers = 300.0, 3
    merged = []
    for index in range(workers):
        share = worker_rate_rps(rate, 10, 30)
        s = ArrivalSchedule(share, 50.0, interleave_offset_s(rate, share, index))
        merged += s.due(51.0 - 1e-9)
    merged.sort()
    assert len(merged) == 300
    gaps = [b - a for a, b in zip(merged, merged[1:])]
    assert min(gaps) == pytest.approx(1 / rate) and max(gaps) == pytest.approx(1 / rate)


def test_single_process_has_no_offset():
    assert interleave_offset_s(100, 100, 0) == 0.0
    assert interleave_offset_s(100, 0, 3) == 0.0


def test_expected_arrivals_counts_the_half_open_interval():
    assert expected_arrivals(10, 0.0, 1.0) == 10  # 0.0 .. 0.9
    assert expected_arrivals(10, 0.0, 1.0001) == 11
    assert expected_arrivals(10, 5.0, 5.0) == 0
    assert expected_arrivals(200, 0.0, 8.0, offset_s=0.0025) == 1600


def test_the_schedule_ends_at_end_s_so_a_load_schedules_exactly_rate_times_duration():
    s = ArrivalSchedule(rate_rps=400, start_s=1000.0, end_s=1008.0)
    assert len(s.due(1020.0)) == 3200
    assert s.due(1030.0) == [] and s.next_at() == float("inf")
    halves = [ArrivalSchedule(200, 1000.0, interleave_offset_s(400, 200, i), end_s=1008.0) for i in (0, 1)]
    assert sum(len(h.due(1010.0)) for h in halves) == 3200
