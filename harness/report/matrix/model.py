"""``matrix.json``: the resiliency matrix ``harness matrix`` drew (the source of truth;
``matrix.md`` and ``matrix.html`` are renderings of it, :mod:`harness.report.matrix.render`).

Rows are dependencies, columns failure modes (:data:`harness.scenario.matrix.FAILURE_MODES`,
in that order; only the modes some scenario tags). Each tagged scenario is one
:class:`MatrixCell` at its ``(dependency, failure_mode)``; two scenarios with the same tag share a
place in the table, both shown.

A cell's ``verdict`` comes from its report's status: ``passed`` -> ``held``; ``failed`` or
``aborted`` -> ``failed``; ``inconclusive``, ``error``, ``interrupted`` or ``measured`` (a
measurement judges nothing) -> ``inconclusive``; no report -> ``not run``. A cell is ``stale``
when its report ended longer ago than the matrix's ``max_age_s``, or the scenario file changed
since (its sha256 differs): shown and marked, never hidden.

The matrix's status (and ``harness matrix``'s exit code, :func:`decide_matrix_status`):
``failed`` (1) a cell failed; else ``error`` (3) a cell's run ended in an error or could not be
started; else ``inconclusive`` (5) a cell was inconclusive, not run, or stale (old evidence
proves nothing about today's system); else ``passed`` (0) every cell held on a fresh report.
``interrupted`` (130): Ctrl-C while running; the cells done so far are drawn.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MATRIX_SCHEMA_VERSION = 1

CellVerdict = Literal["held", "failed", "inconclusive", "not run"]
"""What one cell says (see the module docstring)."""

MatrixStatus = Literal["passed", "failed", "error", "inconclusive", "interrupted"]
"""How the whole matrix came out (see the module docstring)."""

VERDICT_OF_STATUS: dict[str, CellVerdict] = {
    "passed": "held", "failed": "failed", "aborted": "failed", "inconclusive": "inconclusive",
    "error": "inconclusive", "interrupted": "inconclusive", "measured": "inconclusive",
}
"""A report status -> the cell's verdict (the rule of the module docstring)."""


class MatrixCell(BaseModel):
    """One tagged scenario's cell.

    Fields: its place (``dependency``, ``failure_mode``); the ``scenario`` name and
    ``scenario_path`` (as found under the scenario directory); the ``verdict``; the report's
    ``status`` and ``error`` (None without a report; a run that could not start has ``status``
    ``error`` and its one-line ``error``); the key number: ``key`` (the expectation's name),
    ``metric``, ``observed`` (None when not measured), ``threshold`` and ``operator``; ``report``:
    the report.html's path relative to the matrix directory; ``run_id``; ``ended_at`` (ISO-8601
    UTC) and ``age_s`` (seconds from it to the matrix's ``generated_at``); ``stale`` and
    ``stale_reason``; ``ran``: this matrix ran it (else an existing report was read).
    """

    dependency: str
    failure_mode: str
    scenario: str
    scenario_path: str
    verdict: CellVerdict
    status: str | None = None
    error: str | None = None
    key: str | None = None
    metric: str | None = None
    observed: float | None = None
    threshold: float | None = None
    operator: str | None = None
    report: str | None = None
    run_id: str | None = None
    ended_at: str | None = None
    age_s: float | None = None
    stale: bool = False
    stale_reason: str | None = None
    ran: bool = False


class Matrix(BaseModel):
    """``matrix.json`` (see the module docstring): where its scenarios and reports came from
    (``scenario_dir``, ``reports_dir``, as given), when it was drawn (``generated_at``, ISO-8601
    UTC), the staleness bound ``max_age_s`` (seconds), its ``status`` and ``reason``, the rows
    (``dependencies``, sorted) and columns (``failure_modes``, in the vocabulary's order) and the
    ``cells``."""

    schema_version: int = MATRIX_SCHEMA_VERSION
    scenario_dir: str
    reports_dir: str
    generated_at: str
    max_age_s: float
    status: MatrixStatus
    reason: str
    dependencies: list[str] = Field(default_factory=list)
    failure_modes: list[str] = Field(default_factory=list)
    cells: list[MatrixCell] = Field(default_factory=list)

    def at(self, dependency: str, failure_mode: str) -> list[MatrixCell]:
        """The cells at one place of the table (empty: no scenario tests it), in scenario order."""
        return [c for c in self.cells if c.dependency == dependency and c.failure_mode == failure_mode]


def decide_matrix_status(cells: list[MatrixCell], interrupted: bool = False) -> tuple[MatrixStatus, str]:
    """The matrix's ``(status, reason)`` from its cells (the rules of the module docstring);
    ``interrupted``: Ctrl-C stopped the runs. The reason names the cells that decided it."""
    if interrupted:
        return "interrupted", "interrupted; the cells done so far are drawn"

    def names(pick) -> str:  # noqa: ANN001
        picked = [f"{c.dependency} x {c.failure_mode} ({c.scenario})" for c in cells if pick(c)]
        more = f" and {len(picked) - 3} more" if len(picked) > 4 else ""
        return ", ".join(picked[:3] if more else picked) + more

    if any(c.verdict == "failed" for c in cells):
        return "failed", "failed: " + names(lambda c: c.verdict == "failed")
    if any(c.status == "error" for c in cells):
        return "error", "ended in an error: " + names(lambda c: c.status == "error")
    if not cells:
        return "inconclusive", "no tagged scenario"
    if any(c.verdict != "held" or c.stale for c in cells):
        return "inconclusive", "not proven held (inconclusive, not run or stale): " + names(
            lambda c: c.verdict != "held" or c.stale)
    return "passed", f"every cell held ({len(cells)} scenario{'s' if len(cells) != 1 else ''})"
