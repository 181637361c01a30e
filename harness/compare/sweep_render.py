"""Renderings of a :class:`~harness.compare.sweeps.SweepComparison`: ``compare.md`` (a PR comment:
the outcome and its reasons, the breaking point, the cells that moved first, at most
:data:`MD_MAX_ROWS` rows), ``compare.html`` (self-contained, every cell) and ``compare.json``.
"""

from __future__ import annotations

from pathlib import Path

from harness.compare.sweeps import CellMove, ExpectationMove, SweepComparison, values_text
from harness.report.files import write_formats
from harness.report.html import ENV
from harness.report.markdown import code_span, md_escape
from harness.report.sweep.cells import MARK, fmt_observed, fmt_value

MD_MAX_ROWS = 30
LABEL = {"ok": "OK (no regression)", "regressed": "REGRESSED", "inconclusive": "INCONCLUSIVE"}
CHANGE_TEXT = {"same": "", "regressed": "**REGRESSED**", "improved": "improved", "proves_nothing": "proves nothing",
               "appeared": "new", "gone": "gone"}
MOVE_TEXT = {"earlier": "**earlier** (regression)", "later": "later (improvement)", "within": "no move told",
             "not_compared": "not compared"}


def _side(ref) -> str:  # noqa: ANN001
    return f"`{code_span(ref.path)}` ({ref.mode}, {ref.status}, {ref.cells} cells)"


def fmt_delta(e: ExpectationMove) -> str:
    """The observed value's change with its sign, ``–`` when either side was not measured."""
    return "–" if e.delta is None else (f"{e.delta:+,.0f}" if abs(e.delta) >= 100 else f"{e.delta:+.3g}")


def _rows(c: SweepComparison) -> list[tuple[CellMove, ExpectationMove]]:
    """Every (cell, expectation) pair, the moved ones first (regressions first), else in order."""
    pairs = [(cell, e) for cell in c.cells for e in cell.expectations]
    rank = {"regressed": 0, "proves_nothing": 1, "improved": 2, "gone": 3, "appeared": 4, "same": 5}
    return sorted(pairs, key=lambda p: rank[p[1].change])


def _breaking_lines(c: SweepComparison) -> list[str]:
    b = c.breaking_point
    if b is None:
        return []
    at = lambda v: "–" if v is None else fmt_value(v)  # noqa: E731
    return ["## Breaking point", "",
            "| expectation | parameter | BEFORE holds at | BEFORE breaks at | AFTER holds at | AFTER breaks at | moved |",
            "|---|---|---|---|---|---|---|",
            f"| {md_escape(b.expectation)} | `{code_span(b.path)}` | {at(b.before_holds_at)} | {at(b.before_breaks_at)} "
            f"| {at(b.after_holds_at)} | {at(b.after_breaks_at)} | {MOVE_TEXT[b.moved]} |", "", md_escape(b.note), ""]


def render_sweep_compare_md(c: SweepComparison) -> str:
    """compare.md of two sweeps (see the module docstring)."""
    lines = [f"# Compare {md_escape(c.after.scenario)} sweeps: {LABEL[c.outcome]}", "",
             f"BEFORE {_side(c.before)} → AFTER {_side(c.after)} · {len(c.cells)} cells in both, "
             f"{len(c.moved)} moved", ""]
    lines += [f"- **{md_escape(r)}**" for r in c.reasons]
    lines += [f"- warning: {md_escape(w)}" for w in c.warnings]
    lines += ["", *_breaking_lines(c)]
    rows = _rows(c)
    if rows:
        lines += ["## Cells", "", "| cell | expectation | before | after | observed before | observed after | "
                  "Δ observed | moved |", "|---|---|---|---|---|---|---|---|"]
        for cell, e in rows[:MD_MAX_ROWS]:
            lines.append(f"| {md_escape(values_text(cell.values))} | {md_escape(e.name)} | {e.before} {MARK[e.before]} "
                         f"| {e.after} {MARK[e.after]} | {fmt_observed(e.observed_before)} | "
                         f"{fmt_observed(e.observed_after)} | {fmt_delta(e)} | {CHANGE_TEXT[e.change]} |")
        if len(rows) > MD_MAX_ROWS:
            lines += ["", f"… {len(rows) - MD_MAX_ROWS} more rows (none moved) in compare.html and compare.json"
                      if rows[MD_MAX_ROWS][1].change == "same" else
                      f"… {len(rows) - MD_MAX_ROWS} more rows in compare.html and compare.json"]
    for side, cells in (("BEFORE", c.only_before), ("AFTER", c.only_after)):
        if cells:
            shown = ", ".join(md_escape(values_text(u.values)) for u in cells[:10])
            more = f" and {len(cells) - 10} more" if len(cells) > 10 else ""
            lines += ["", f"Only in {side} ({len(cells)}): {shown}{more}"]
    return "\n".join(lines).rstrip("\n") + "\n"


def render_sweep_compare_html(c: SweepComparison) -> str:
    """compare.html of two sweeps: every matched cell and expectation, the breaking point, the
    cells on one side only; self-contained, every string HTML-escaped."""
    return ENV.get_template("sweep_compare.html.j2").render(
        c=c, label=LABEL, rows=_rows(c), values_text=values_text, fmt_observed=fmt_observed, fmt_value=fmt_value,
        fmt_delta=fmt_delta, move_text={k: v.replace("**", "") for k, v in MOVE_TEXT.items()})


def write_sweep_comparison(c: SweepComparison, out_dir: Path) -> dict[str, Path]:
    """Write ``compare.json``, ``compare.md`` and ``compare.html`` of two sweeps into ``out_dir``
    (created if missing), each whole or not at all, everything rendered first; return their paths
    by format (``json``, ``md``, ``html``).

    Raises:
        harness.report.ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    texts = {"json": c.model_dump_json(indent=2) + "\n", "md": render_sweep_compare_md(c),
             "html": render_sweep_compare_html(c)}
    return write_formats(out_dir, "compare", texts)
