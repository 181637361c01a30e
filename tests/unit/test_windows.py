"""Windows start when the fault took effect: at the end of its inject call (``t + took_ms``),
end at the start of its revert call, and recovery starts at the end of the revert call."""

import pytest

from harness.analysis.windows import slice_windows
from harness.journal import Event

T0 = 2_000_000.0


def ev(name, offset_s, **fields):
    return Event(name, T0 + offset_s, fields)


def spans(windows):
    return [(w.name, w.start_s, w.end_s) for w in windows]


def test_a_slow_inject_and_revert_are_left_out_of_the_fault_and_recovery_windows():
    journal = [
        ev("load.start", 0),
        ev("fault.injecting", 10, fault="stop"),
        ev("fault.inject", 10, fault="stop", took_ms=9_500.0),  # a 10 s docker stop: in place at 19.5
        ev("fault.revert", 30, fault="stop", took_ms=1_250.0),  # started at 30, up again at 31.25
        ev("load.stop", 60),
    ]
    windows, run = slice_windows(journal, recovery_grace_s=2)
    assert spans(windows) == [
        ("baseline", 0, 10),  # ends when the inject call starts
        ("fault:stop", 19.5, 30),
        ("recovery:stop", 33.25, 60),  # revert end + grace
    ]
    assert (run.start_s, run.end_s) == (0, 60)


def test_recovery_ends_at_the_next_inject_call_start():
    journal = [
        ev("load.start", 0),
        ev("fault.inject", 5, fault="a", took_ms=1_000),
        ev("fault.revert", 10, fault="a", took_ms=500),
        ev("fault.inject", 20, fault="b", took_ms=3_000),
        ev("fault.revert", 30, fault="b"),  # no took_ms: an instant call
        ev("load.stop", 40),
    ]
    windows, _ = slice_windows(journal)
    assert spans(windows) == [
        ("baseline", 0, 5),
        ("fault:a", 6, 10),
        ("recovery:a", 10.5, 20),
        ("fault:b", 23, 30),
        ("recovery:b", 30, 40),
    ]


@pytest.mark.parametrize("took_ms, expected", [
    (40_000, [("baseline", 0, 5), ("fault:x", 30, 30)]),  # in place only after the load ended
    (1_000, [("baseline", 0, 5), ("fault:x", 6, 30)]),  # never reverted: to the load's end
])
def test_fault_windows_are_clipped_to_the_load(took_ms, expected):
    journal = [ev("load.start", 0), ev("fault.inject", 5, fault="x", took_ms=took_ms), ev("load.stop", 30)]
    assert spans(slice_windows(journal)[0]) == expected


def test_a_revert_that_ends_past_the_load_leaves_an_empty_recovery():
    journal = [ev("load.start", 0), ev("fault.inject", 5, fault="x", took_ms=0),
               ev("fault.revert", 28, fault="x", took_ms=5_000), ev("load.stop", 30)]
    windows, _ = slice_windows(journal, recovery_grace_s=1)
    assert spans(windows) == [("baseline", 0, 5), ("fault:x", 5, 28), ("recovery:x", 30, 30)]
    assert windows[-1].duration_s == 0


def test_a_failed_inject_gets_no_window():
    journal = [ev("load.start", 0), ev("fault.injecting", 5, fault="x"),
               ev("fault.inject_failed", 5, fault="x", took_ms=2_000, error="boom"),
               ev("fault.revert", 7, fault="x", took_ms=10), ev("load.stop", 30)]
    assert spans(slice_windows(journal)[0]) == [("baseline", 0, 30)]
