"""``--search PATH=LO..HI``: bisect one numeric parameter to the breaking point of a named
expectation.

The rule: probe both ends first. Held at both: ``held_throughout``; failed at both:
``broken_throughout``. Otherwise the boundary between the value where the expectation held and
the one where it failed is halved until the two are within the tolerance of each other
(``|breaks_at - holds_at| <= tolerance * min(|holds_at|, |breaks_at|)``; an integer parameter
also stops at a gap of 1). Either direction works: a latency that breaks a p99 bound as it
grows, or a timeout that mends one as it grows.

The midpoint is the geometric mean when both ends are positive (the tolerance is relative, so a
range of 250..4000 ms is halved in ratio, as a log axis would), else the arithmetic mean.

A probe that is neither held nor failed (inconclusive, an error) stops the search with outcome
``inconclusive`` and the bracket found so far: bisecting past a step that proved nothing would
put the breaking point on a guess. The search assumes one crossing in the range (a monotone
response); with several, it finds one of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Literal

from harness.sweep.grid import SearchRange

Verdict = Literal["held", "failed", "inconclusive", "interrupted"]
"""What a probe of one value says of the searched expectation."""

DEFAULT_TOLERANCE = 0.05
"""Relative width of the final bracket (5 %): halving 250..4000 to it takes about 6 steps."""


@dataclass
class Bracket:
    """The search's state and result: ``holds_at``/``breaks_at`` (None until seen), ``steps``
    probed, and the ``outcome`` (see :class:`harness.report.sweep.SearchResult`)."""

    holds_at: float | None = None
    breaks_at: float | None = None
    steps: int = 0
    outcome: str = "inconclusive"
    probed: list[tuple[float, Verdict]] = field(default_factory=list)


def midpoint(a: float, b: float, integer: bool) -> float:
    """The next value to probe between ``a`` and ``b`` (geometric mean of two positive ends,
    else arithmetic; rounded for an integer parameter)."""
    mid = math.sqrt(a * b) if a > 0 and b > 0 else (a + b) / 2
    return float(round(mid)) if integer else mid


def narrow_enough(a: float, b: float, tolerance: float, integer: bool) -> bool:
    """Whether the bracket ``a``..``b`` is within ``tolerance`` (relative to the smaller end's
    magnitude), or, for an integer parameter, has no whole number strictly inside it."""
    gap = abs(b - a)
    if integer and gap <= 1:
        return True
    return gap <= tolerance * min(abs(a), abs(b))


def bisect(search: SearchRange, probe: Callable[[float], Verdict], tolerance: float = DEFAULT_TOLERANCE,
           max_steps: int = 30) -> Bracket:
    """Find the breaking point of the expectation ``probe`` judges, in ``search``'s range.

    Args:
        search: the parameter's range (and whether it is an integer).
        probe: runs the scenario at a value and returns the expectation's verdict there.
        tolerance: relative width of the final bracket (> 0).
        max_steps: a hard bound on the probes (30 halvings exceed any float range).

    Returns:
        The bracket (outcome ``found``, ``held_throughout``, ``broken_throughout``,
        ``inconclusive`` or ``interrupted``).

    Raises:
        ValueError: ``tolerance`` is not positive.
    """
    if not tolerance > 0:
        raise ValueError(f"tolerance must be above 0 (got {tolerance})")
    bracket = Bracket()
    ends = [search.lo, search.hi]
    for value in ends:
        if not _step(bracket, value, probe):
            return bracket
    if bracket.holds_at is None:  # failed at both ends: broken from LO on
        bracket.breaks_at, bracket.outcome = search.lo, "broken_throughout"
        return bracket
    if bracket.breaks_at is None:  # held at both ends: no breaking point up to HI
        bracket.holds_at, bracket.outcome = search.hi, "held_throughout"
        return bracket
    while bracket.steps < max_steps:
        held, broke = bracket.holds_at, bracket.breaks_at
        mid = midpoint(held, broke, search.integer)
        if narrow_enough(held, broke, tolerance, search.integer) or mid in (held, broke):
            bracket.outcome = "found"
            return bracket
        if not _step(bracket, mid, probe):
            return bracket
    bracket.outcome = "found"
    return bracket


def _step(bracket: Bracket, value: float, probe: Callable[[float], Verdict]) -> bool:
    """Probe ``value`` and move the bracket's end; False (outcome set) when the search must stop."""
    verdict = probe(value)
    bracket.steps += 1
    bracket.probed.append((value, verdict))
    if verdict == "held":
        if bracket.holds_at is None or _between(value, bracket.holds_at, bracket.breaks_at):
            bracket.holds_at = value
        return True
    if verdict == "failed":
        if bracket.breaks_at is None or _between(value, bracket.breaks_at, bracket.holds_at):
            bracket.breaks_at = value
        return True
    bracket.outcome = "interrupted" if verdict == "interrupted" else "inconclusive"
    return False


def _between(value: float, old: float, other: float | None) -> bool:
    """Whether ``value`` is closer to ``other`` than ``old`` is (it narrows the bracket)."""
    return other is None or abs(value - other) < abs(old - other)
