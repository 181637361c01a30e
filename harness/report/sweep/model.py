"""``sweep.json``: what ``harness sweep`` measured, cell by cell (the source of truth; ``sweep.md``
and ``sweep.html`` are renderings of it, :mod:`harness.report.sweep.render`).

A sweep runs one scenario at several settings (the cells). In a grid, the cells are the cross
product of every ``--vary PATH=V1,V2,...``; in a search, the cells are the steps of a bisection
of one numeric parameter towards the value where a named expectation stops holding (its
*breaking point*, :class:`SearchResult`). Each cell is a normal run with its own report directory
(``dir``, relative to the sweep's); a cell keeps, per expectation, the observed value, the
threshold and the verdict, so the sweep can be read and plotted without its cells' reports.

Sweep status (and ``harness sweep``'s exit code, as for ``harness run``):

- grid: ``passed`` (0) every cell passed (or measured); ``failed`` (1) a cell failed or was
  aborted; else ``error`` (3) a cell ended in an error; else ``inconclusive`` (5) a cell was
  inconclusive; ``interrupted`` (130) Ctrl-C: the cells done are reported.
- search: ``measured`` (0) the search ran to its end (the breaking point found within the
  tolerance, or the expectation held over the whole range, or broke already at its low end:
  :attr:`SearchResult.outcome` says which); ``error`` (3) / ``inconclusive`` (5) a step's verdict
  could not be had, so the bracket stops where it was (still reported); ``interrupted`` (130).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SWEEP_SCHEMA_VERSION = 1
Value = int | float | str | bool | None
"""A parameter's value, as the scenario field takes it (``--vary`` values are YAML scalars)."""


class Varied(BaseModel):
    """One varied parameter: its dotted scenario ``path`` (``faults.0.latency_ms``) and its values
    in the order given (a grid), or the ``[lo, hi]`` range searched."""

    path: str
    values: list[Value]


class CellExpectation(BaseModel):
    """One expectation's verdict in one cell: ``observed`` (None when not measured), ``threshold``
    and ``operator`` (``<``, ``<=``, ...), ``metric`` and ``window``, and ``verdict``: ``held``,
    ``failed`` or ``inconclusive`` (what proved it is in the cell's own report)."""

    name: str
    metric: str
    window: str
    observed: float | None
    threshold: float
    operator: str
    verdict: Literal["held", "failed", "inconclusive"]


class SweepCell(BaseModel):
    """One cell: ``index`` (1-based, in run order), the varied ``values`` by path, the cell's
    run ``status`` (a report status, or the aggregate's with ``--repeat``), its ``error``, its
    report directory ``dir`` (relative to the sweep directory), its ``run_id``, ``duration_s``
    (wall time of the cell, set-up and teardown included) and its expectations' verdicts."""

    index: int
    values: dict[str, Value]
    status: str
    error: str | None = None
    dir: str
    run_id: str | None = None
    duration_s: float | None = None
    expectations: list[CellExpectation] = Field(default_factory=list)

    def expectation(self, name: str) -> CellExpectation | None:
        """The verdict of the expectation called ``name`` in this cell, or None."""
        return next((e for e in self.expectations if e.name == name), None)


class SearchResult(BaseModel):
    """A ``--search PATH=LO..HI`` for the breaking point of ``expectation``.

    ``holds_at``: the highest value at which the expectation held; ``breaks_at``: the lowest at
    which it failed (the *breaking point*; the true one lies between the two). The search stops
    when ``breaks_at - holds_at <= tolerance * holds_at`` (``tolerance`` is relative, 0.05 = 5 %;
    an integer parameter also stops at a gap of 1).

    ``outcome``: ``found`` (bracketed within the tolerance); ``held_throughout`` (held at HI:
    no breaking point in the range); ``broken_throughout`` (failed at LO already);
    ``inconclusive`` (a step was inconclusive or errored: the bracket so far is kept);
    ``interrupted``.
    """

    path: str
    expectation: str
    lo: float
    hi: float
    tolerance: float
    outcome: Literal["found", "held_throughout", "broken_throughout", "inconclusive", "interrupted"]
    holds_at: float | None = None
    breaks_at: float | None = None
    steps: int = 0


class Sweep(BaseModel):
    """``sweep.json`` (see the module docstring): the scenario's ``name`` and ``path``, the
    ``--set`` overrides shared by every cell, the ``varied`` parameters, ``mode`` (``grid`` or
    ``search``), ``repeat`` (runs per cell), ``shared_stack`` (the cells ran on one stack, brought
    up once), ``status`` with its ``reason``, the UTC ``started_at``/``ended_at``, the ``cells``
    and, for a search, ``search``."""

    schema_version: int = SWEEP_SCHEMA_VERSION
    scenario: str
    scenario_path: str
    overrides: list[str] = Field(default_factory=list)
    varied: list[Varied]
    mode: Literal["grid", "search"] = "grid"
    repeat: int = 1
    shared_stack: bool = False
    status: Literal["passed", "failed", "measured", "inconclusive", "error", "interrupted"]
    reason: str = ""
    started_at: str
    ended_at: str
    cells: list[SweepCell] = Field(default_factory=list)
    search: SearchResult | None = None

    def expectation_names(self) -> list[str]:
        """Every expectation judged in any cell, in first-seen order."""
        names: dict[str, None] = {}
        for cell in self.cells:
            for e in cell.expectations:
                names.setdefault(e.name, None)
        return list(names)
