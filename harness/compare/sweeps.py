"""``harness compare BEFORE AFTER`` of two sweeps (directories holding ``sweep.json``, or the files):
which cells moved, and whether the breaking point did.

**Cells** are matched by their varied values (``1`` and ``1.0`` match; ``"1"`` and ``1`` do not:
:func:`harness.report.sweep.cells.value_key`); a cell only on one side is listed, not judged. In a
matched pair, each expectation (matched by name) gets its verdict on both sides, its observed
value before and after and the change (after - before), and a ``change``:

- ``same``: the same verdict;
- ``regressed``: held before, failed (or not judged) after;
- ``improved``: failed before, held after;
- ``proves_nothing``: inconclusive on either side, or either cell ended ``error``,
  ``inconclusive`` or ``interrupted`` (such a cell cannot vouch for its verdicts);
- ``appeared`` / ``gone``: judged on one side only (a held one gone is ``regressed``).

**The breaking point** (two searches of the same parameter and expectation): each search says
the true breaking point lies above ``holds_at`` and at or below ``breaks_at`` (a missing end is
open). It moved ``earlier`` when AFTER failed at or below a value BEFORE held at
(``after.breaks_at <= before.holds_at``: a regression); ``later`` when AFTER held at or above a
value BEFORE failed at (an improvement); else it is ``within`` the brackets (no move can be
told). An inconclusive or interrupted search still brackets with the steps it judged.

**Outcome** (the exit codes of a run-vs-run compare, :data:`harness.compare.OUTCOME_EXIT`):
``regressed`` (1) when any cell regressed or the breaking point moved earlier: one proven
regression is not hidden by an inconclusive cell elsewhere (a sweep is many pieces of evidence,
a run one); else ``inconclusive`` (3) when a matched cell proves nothing, either sweep ended
``error`` or ``interrupted``, or no cell matched; else ``ok`` (0).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from harness.compare.core import UNVOUCHED, Outcome
from harness.report.sweep.cells import cell_key, fmt_observed, fmt_value, verdict_in
from harness.report.sweep.model import SearchResult, Sweep, SweepCell, Value

SWEEP_COMPARE_SCHEMA_VERSION = 1
Change = Literal["same", "regressed", "improved", "proves_nothing", "appeared", "gone"]
Move = Literal["earlier", "later", "within", "not_compared"]
Verdict = Literal["held", "failed", "inconclusive", "absent"]


class SweepRef(BaseModel):
    """Which sweep a side is: its ``path``, scenario, ``mode``, ``status``, start time, the
    varied parameters' paths and how many cells it has."""

    path: str
    scenario: str
    mode: str
    status: str
    started_at: str
    varied: list[str]
    cells: int


class ExpectationMove(BaseModel):
    """One expectation in one matched cell: verdicts and observed values on both sides, ``delta``
    = after - before (None when either is missing), and the ``change`` (module docstring)."""

    name: str
    metric: str
    before: Verdict
    after: Verdict
    observed_before: float | None = None
    observed_after: float | None = None
    delta: float | None = None
    threshold: float | None = None
    change: Change


class CellMove(BaseModel):
    """A pair of cells with the same ``values``: each side's index, status and directory (as the
    sweep names it), whether both ``vouch`` (neither ended ``error``, ``inconclusive`` or
    ``interrupted``) and each expectation's move."""

    values: dict[str, Value]
    before_index: int
    after_index: int
    before_status: str
    after_status: str
    before_dir: str
    after_dir: str
    vouch: bool
    expectations: list[ExpectationMove] = Field(default_factory=list)

    @property
    def moved(self) -> bool:
        """Whether a verdict changed in this cell."""
        return any(e.change != "same" for e in self.expectations)


class UnmatchedCell(BaseModel):
    """A cell on one side only: its index, values, status and directory."""

    index: int
    values: dict[str, Value]
    status: str
    dir: str


class BreakMove(BaseModel):
    """The breaking point of ``expectation`` along ``path`` in both searches: each side's bracket
    and outcome, and how it ``moved`` (module docstring)."""

    path: str
    expectation: str
    before_holds_at: float | None = None
    before_breaks_at: float | None = None
    after_holds_at: float | None = None
    after_breaks_at: float | None = None
    before_outcome: str | None = None
    after_outcome: str | None = None
    moved: Move
    note: str = ""


class SweepComparison(BaseModel):
    """``compare.json`` of two sweeps (``kind`` = ``sweep``; see the module docstring)."""

    schema_version: int = SWEEP_COMPARE_SCHEMA_VERSION
    kind: Literal["sweep"] = "sweep"
    before: SweepRef
    after: SweepRef
    outcome: Outcome
    reasons: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    cells: list[CellMove] = Field(default_factory=list)
    only_before: list[UnmatchedCell] = Field(default_factory=list)
    only_after: list[UnmatchedCell] = Field(default_factory=list)
    breaking_point: BreakMove | None = None

    @property
    def moved(self) -> list[CellMove]:
        """The matched cells in which a verdict changed."""
        return [c for c in self.cells if c.moved]


def values_text(values: dict[str, Value]) -> str:
    """A cell's values on one line: ``faults.0.latency_ms=400, load.users=10``."""
    return ", ".join(f"{path}={fmt_value(v)}" for path, v in values.items())


def _change(before: Verdict, after: Verdict, vouch: bool) -> Change:
    if before == after:
        return "same"
    if before == "absent":
        return "appeared"
    if "inconclusive" in (before, after) or not vouch:
        return "proves_nothing"
    if before == "held":
        return "regressed"
    return "improved" if after == "held" else "gone"


def compare_cells(before: SweepCell, after: SweepCell) -> CellMove:
    """The move of one matched pair of cells: every expectation of either, in BEFORE's order then
    AFTER's new ones."""
    vouch = before.status not in UNVOUCHED and after.status not in UNVOUCHED
    names = [e.name for e in before.expectations]
    names += [e.name for e in after.expectations if e.name not in names]
    moves = []
    for name in names:
        eb, ea = before.expectation(name), after.expectation(name)
        vb, va = verdict_in(before, name), verdict_in(after, name)
        ob, oa = eb.observed if eb else None, ea.observed if ea else None
        ref = ea or eb
        assert ref is not None
        moves.append(ExpectationMove(name=name, metric=ref.metric, before=vb, after=va, observed_before=ob,
                                     observed_after=oa, delta=oa - ob if ob is not None and oa is not None else None,
                                     threshold=ref.threshold, change=_change(vb, va, vouch)))
    return CellMove(values=after.values, before_index=before.index, after_index=after.index,
                    before_status=before.status, after_status=after.status, before_dir=before.dir,
                    after_dir=after.dir, vouch=vouch, expectations=moves)


def compare_breaking_points(before: SearchResult | None, after: SearchResult | None) -> BreakMove | None:
    """How the breaking point moved between two searches (module docstring); None unless both
    sweeps are searches. Searches of another parameter or expectation are ``not_compared``."""
    if before is None or after is None:
        return None
    move = BreakMove(path=after.path, expectation=after.expectation, before_holds_at=before.holds_at,
                     before_breaks_at=before.breaks_at, after_holds_at=after.holds_at,
                     after_breaks_at=after.breaks_at, before_outcome=before.outcome, after_outcome=after.outcome,
                     moved="within")
    if (before.path, before.expectation) != (after.path, after.expectation):
        move.moved = "not_compared"
        move.note = (f"BEFORE searched {before.path} for {before.expectation!r}, AFTER {after.path} for "
                     f"{after.expectation!r}")
    elif after.breaks_at is not None and before.holds_at is not None and after.breaks_at <= before.holds_at:
        move.moved = "earlier"
        move.note = f"AFTER failed at {fmt_value(after.breaks_at)}, where BEFORE held at {fmt_value(before.holds_at)}"
    elif after.holds_at is not None and before.breaks_at is not None and after.holds_at >= before.breaks_at:
        move.moved = "later"
        move.note = f"AFTER held at {fmt_value(after.holds_at)}, where BEFORE failed at {fmt_value(before.breaks_at)}"
    else:
        move.note = "the brackets overlap: no move can be told at the searches' resolution"
    return move


def _ref(sweep: Sweep, path: str) -> SweepRef:
    return SweepRef(path=path, scenario=sweep.scenario, mode=sweep.mode, status=sweep.status,
                    started_at=sweep.started_at, varied=[v.path for v in sweep.varied], cells=len(sweep.cells))


def _unmatched(cell: SweepCell) -> UnmatchedCell:
    return UnmatchedCell(index=cell.index, values=cell.values, status=cell.status, dir=cell.dir)


def _match(before: Sweep, after: Sweep, warnings: list[str]) -> tuple[list[CellMove], list[SweepCell],
                                                                          list[SweepCell]]:
    """Matched pairs (in AFTER's order), and the cells of each side without a match. A cell whose
    values repeat on its side is matched once (the first), with a warning."""
    sides = []
    for side, sweep in (("BEFORE", before), ("AFTER", after)):
        by_key: dict[object, SweepCell] = {}
        for cell in sweep.cells:
            if by_key.setdefault(cell_key(cell), cell) is not cell:
                warnings.append(f"{side}: cell {cell.index} repeats the values of cell "
                                f"{by_key[cell_key(cell)].index} ({values_text(cell.values)}); only the first is "
                                "compared")
        sides.append(by_key)
    b, a = sides
    pairs = [compare_cells(b[k], cell) for k, cell in a.items() if k in b]
    return pairs, [c for k, c in b.items() if k not in a], [c for k, c in a.items() if k not in b]


def compare_sweeps(before: Sweep, after: Sweep, before_path: str = "", after_path: str = "") -> SweepComparison:
    """Compare two sweeps (see the module docstring); a pure function of the two."""
    warnings: list[str] = []
    if before.scenario != after.scenario:
        warnings.append(f"different scenarios: {before.scenario!r} before, {after.scenario!r} after")
    if sorted(v.path for v in before.varied) != sorted(v.path for v in after.varied):
        warnings.append(f"different parameters varied: {', '.join(v.path for v in before.varied)} before, "
                        f"{', '.join(v.path for v in after.varied)} after")
    cells, only_before, only_after = _match(before, after, warnings)
    bp = compare_breaking_points(before.search, after.search)
    if bp is not None and bp.moved == "not_compared":
        warnings.append(f"breaking points not compared: {bp.note}")
    reasons = [f"{e.name!r} at {values_text(c.values)}: held before, {e.after} after"
               for c in cells for e in c.expectations if e.change == "regressed"]
    if bp is not None and bp.moved == "earlier":
        reasons.append(f"breaking point of {bp.expectation!r} along {bp.path} moved earlier: {bp.note}")
    unproven = [f"{values_text(c.values)}: " + (f"cell ended {c.before_status} before, {c.after_status} after"
                                                if not c.vouch else "a verdict was inconclusive")
                for c in cells if not c.vouch or any("inconclusive" in (e.before, e.after) for e in c.expectations)]
    unproven += [f"{side} sweep ended {s.status}" + (f": {s.reason}" if s.reason else "")
                 for side, s in (("BEFORE", before), ("AFTER", after)) if s.status in ("error", "interrupted")]
    if not cells:
        unproven.append("no cell has the same values in both sweeps")
    outcome: Outcome = "regressed" if reasons else ("inconclusive" if unproven else "ok")
    return SweepComparison(before=_ref(before, before_path), after=_ref(after, after_path), outcome=outcome,
                           reasons=reasons + [f"proves nothing: {u}" for u in unproven], warnings=warnings,
                           cells=cells, only_before=[_unmatched(c) for c in only_before],
                           only_after=[_unmatched(c) for c in only_after], breaking_point=bp)


def describe_move(e: ExpectationMove) -> str:
    """One expectation's move in words: ``held -> failed (observed 450 -> 620, +170)``."""
    delta = "" if e.delta is None else f", {e.delta:+.4g}"
    return (f"{e.before} -> {e.after} (observed {fmt_observed(e.observed_before)} -> "
            f"{fmt_observed(e.observed_after)}{delta})")
