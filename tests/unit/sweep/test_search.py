"""The bisection to a breaking point: against a fine grid, either direction, the ends, a step
that proves nothing."""

from __future__ import annotations

import pytest

from harness.sweep.grid import SearchRange
from harness.sweep.search import bisect, midpoint, narrow_enough


def fine_grid_breaking_point(lo: int, hi: int, step: int, breaks) -> int:  # noqa: ANN001
    """The first value of a grid lo, lo+step, ... at which ``breaks`` says it broke."""
    return next(v for v in range(lo, hi + 1, step) if breaks(v))


@pytest.mark.parametrize("base_ms", [3.0, 12.0, 240.0, 610.0])
def test_the_search_lands_within_ten_percent_of_a_fine_grid(base_ms):
    """A naive product page waits the catalog's whole latency: p99 = latency + base; the bound
    is 1000 ms. The 1 ms grid's first failing latency must lie in the bracket the search gives,
    and its breaks_at within 10 % of it (the tolerance is 5 %)."""
    def breaks(latency: float) -> bool:
        return latency + base_ms >= 1000

    calls = []

    def probe(value: float) -> str:
        calls.append(value)
        return "failed" if breaks(value) else "held"

    bracket = bisect(SearchRange("faults.0.latency_ms", 250, 4000, True), probe, tolerance=0.05)
    grid_point = fine_grid_breaking_point(250, 4000, 1, breaks)
    assert bracket.outcome == "found"
    assert bracket.holds_at < grid_point <= bracket.breaks_at
    assert abs(bracket.breaks_at - grid_point) <= 0.10 * grid_point
    assert len(calls) <= 10  # a grid at the same resolution would take ~60 runs


def test_either_direction_a_timeout_that_mends_as_it_grows():
    bracket = bisect(SearchRange("x", 100, 2000, True), lambda v: "held" if v >= 730 else "failed", 0.02)
    assert bracket.outcome == "found"
    assert bracket.breaks_at < 730 <= bracket.holds_at
    assert narrow_enough(bracket.holds_at, bracket.breaks_at, 0.02, True)


def test_held_or_broken_over_the_whole_range():
    held = bisect(SearchRange("x", 1, 10, False), lambda v: "held")
    assert (held.outcome, held.holds_at, held.breaks_at, held.steps) == ("held_throughout", 10, None, 2)
    broken = bisect(SearchRange("x", 1, 10, False), lambda v: "failed")
    assert (broken.outcome, broken.holds_at, broken.breaks_at) == ("broken_throughout", None, 1)


def test_a_step_that_proves_nothing_stops_the_search_with_the_bracket_so_far():
    answers = iter(["held", "failed", "held", "inconclusive", "held"])
    bracket = bisect(SearchRange("x", 100, 1600, True), lambda v: next(answers))
    assert bracket.outcome == "inconclusive"
    assert bracket.steps == 4 and (bracket.holds_at, bracket.breaks_at) == (400, 1600)
    stopped = bisect(SearchRange("x", 1, 9, False), lambda v: "interrupted")
    assert stopped.outcome == "interrupted" and stopped.steps == 1


def test_integer_steps_stop_at_a_gap_of_one():
    bracket = bisect(SearchRange("x", 1, 64, True), lambda v: "held" if v < 37 else "failed", tolerance=0.0001)
    assert (bracket.holds_at, bracket.breaks_at) == (36, 37)


def test_midpoint_is_geometric_for_positive_ends():
    assert midpoint(250, 4000, True) == 1000
    assert midpoint(-10, 10, False) == 0
    with pytest.raises(ValueError):
        bisect(SearchRange("x", 1, 2, False), lambda v: "held", tolerance=0)
