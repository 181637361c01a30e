"""Reading a sweep's cells along its varied parameters: how a value is shown and matched, the axis
of one parameter (numeric or categorical), and where an expectation's verdict changes along it.

Shared by the sweep's renderings (:mod:`harness.report.sweep.render`, :mod:`~harness.report.sweep.plots`)
and by the comparison of two sweeps (:mod:`harness.compare.sweeps`), so that a value is shown,
ordered and matched the same way everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from harness.report.sweep.model import Sweep, SweepCell, Value

VERDICTS = ("held", "failed", "inconclusive")
"""A cell expectation's verdicts; ``absent`` is used where a cell did not judge the expectation."""
MARK = {"held": "✓", "failed": "✗", "inconclusive": "?", "absent": " "}
"""The one-character mark of each verdict in the tables."""

ValueKey = tuple[str, object]
"""A value made hashable without Python's ``True == 1 == 1.0`` conflation (see :func:`value_key`)."""


def value_key(value: Value) -> ValueKey:
    """A key under which two values match when they are the same YAML scalar: ``1`` and ``1.0``
    match (both the number 1), ``true`` and ``1`` do not, nor do ``"1"`` and ``1``."""
    if value is None:
        return ("null", None)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    return ("str", str(value))


def cell_key(cell: SweepCell) -> tuple[tuple[str, ValueKey], ...]:
    """The cell's varied values as a hashable key, independent of their order: two sweeps' cells
    match when their keys are equal."""
    return tuple(sorted((path, value_key(v)) for path, v in cell.values.items()))


def fmt_value(value: Value) -> str:
    """A parameter's value for a label or a table: ``null``, ``true``/``false``, a number to 10
    significant digits (``400``, ``0.25``, ``451.5625``, ``1e+12``), a string as it is."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def fmt_observed(value: float | None) -> str:
    """An observed value or threshold: ``–`` for None or NaN, 3 significant digits below 100,
    thousands separated above."""
    if value is None or math.isnan(value):
        return "–"
    if abs(value) >= 100:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.3g}"


def short_path(path: str) -> str:
    """The last two parts of a dotted path (``0.latency_ms`` of ``faults.0.latency_ms``), for a
    plot's tick or column label where the whole path does not fit."""
    return ".".join(path.split(".")[-2:])


def is_numeric(value: Value) -> bool:
    """Whether ``value`` goes on a numeric axis: an int or a finite float (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Axis:
    """One varied parameter's axis: its ``path``, its distinct ``values`` in axis order (ascending
    when every value is a number, else in first-seen order) and whether it is ``numeric``.

    On a numeric axis a value sits at its own number; on a categorical one, at its index."""

    path: str
    values: tuple[Value, ...]
    numeric: bool

    def index(self, value: Value) -> int:
        """The 0-based place of ``value`` among the axis' values.

        Raises:
            KeyError: ``value`` is not one of the axis' values.
        """
        keys = [value_key(v) for v in self.values]
        try:
            return keys.index(value_key(value))
        except ValueError:
            raise KeyError(fmt_value(value)) from None

    def position(self, value: Value) -> float:
        """Where ``value`` sits on the axis: its number, or its index on a categorical axis.

        Raises:
            KeyError: ``value`` is not one of the axis' values.
        """
        return float(value) if self.numeric else float(self.index(value))  # type: ignore[arg-type]

    def labels(self) -> list[str]:
        """The values as tick labels, in axis order."""
        return [fmt_value(v) for v in self.values]


def axis_of(sweep: Sweep, path: str) -> Axis:
    """The axis of the varied parameter ``path``: a grid's listed values (so a cell not run yet
    still has its place) and every cell's value; a search's cells only (its ``varied`` holds the
    range, not steps)."""
    listed: list[Value] = []
    if sweep.mode == "grid":
        listed += next((v.values for v in sweep.varied if v.path == path), [])
    listed += [c.values[path] for c in sweep.cells if path in c.values]
    seen: dict[ValueKey, Value] = {}
    for v in listed:
        seen.setdefault(value_key(v), v)
    values = list(seen.values())
    numeric = bool(values) and all(is_numeric(v) for v in values)
    if numeric:
        values.sort(key=lambda v: float(v))  # type: ignore[arg-type]
    return Axis(path, tuple(values), numeric)


def verdict_in(cell: SweepCell, expectation: str) -> str:
    """The cell's verdict of ``expectation``: ``held``, ``failed``, ``inconclusive`` or ``absent``."""
    e = cell.expectation(expectation)
    return "absent" if e is None else e.verdict


@dataclass(frozen=True)
class Change:
    """Where a verdict changes between two neighbouring values of an axis: ``lo``/``hi`` are the
    positions of the last value before and the first after (the breaking point lies between);
    ``breaks`` is True for held → failed, False for failed → held."""

    lo: float
    hi: float
    breaks: bool


def changes(points: list[tuple[float, str]]) -> list[Change]:
    """Every change of verdict along an axis: ``points`` are (position, verdict) pairs; only
    ``held`` and ``failed`` count (an inconclusive point proves neither side), taken in order of
    position."""
    judged = sorted((x, v) for x, v in points if v in ("held", "failed"))
    return [Change(a[0], b[0], a[1] == "held") for a, b in zip(judged, judged[1:]) if a[1] != b[1]]
