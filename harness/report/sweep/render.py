"""Renderings of ``sweep.json`` (:class:`~harness.report.sweep.model.Sweep`): ``sweep.md`` (a
pull-request comment, at most :data:`~harness.report.markdown.MAX_LINES` lines) and ``sweep.html``
(one self-contained page with the plots of :mod:`harness.report.sweep.plots`).

Both show the status and its reason, for a search its bracket (where the searched expectation
held and where it failed, the outcome, the steps), and one row per cell: the varied values, the
cell's status, each expectation's observed value with its verdict mark (``✓`` held, ``✗`` failed,
``?`` inconclusive) and a link to the cell's own report. Every string from a scenario goes
through the Markdown escape, or Jinja2's HTML autoescape.
"""

from __future__ import annotations

from harness.report.html import ENV, STATUS_LABEL
from harness.report.markdown import MAX_LINES, code_span, link_target, md_escape
from harness.report.sweep.cells import MARK, fmt_observed, fmt_value
from harness.report.sweep.model import CellExpectation, SearchResult, Sweep, SweepCell
from harness.report.sweep.plots import MAX_PLOTTED, sweep_plots

MD_MAX_EXPECTATIONS = 5
"""Expectation columns in sweep.md; the others are in sweep.html."""
MD_MAX_ERROR_CHARS = 80
OUTCOME_TEXT = {
    "found": "breaking point found within the tolerance",
    "held_throughout": "held over the whole range: no breaking point in it",
    "broken_throughout": "failed already at the low end of the range",
    "inconclusive": "stopped: a step was inconclusive or errored (the bracket so far is kept)",
    "interrupted": "interrupted (the bracket so far is kept)",
}
"""A search's outcome in words."""
NOT_OK = ("failed", "aborted", "error", "inconclusive", "interrupted")
"""Cell statuses kept first when sweep.md has no room for every row."""


def describe(sweep: Sweep) -> str:
    """One line: the mode, how many cells, over which parameters, repeats, stack, times."""
    over = " × ".join(f"`{code_span(v.path)}`" for v in sweep.varied) or "nothing"
    what = "Search" if sweep.mode == "search" else "Grid"
    parts = [f"{what} of {len(sweep.cells)} cell{'s' if len(sweep.cells) != 1 else ''} over {over}"]
    if sweep.repeat > 1:
        parts.append(f"{sweep.repeat} runs per cell")
    if sweep.shared_stack:
        parts.append("one shared stack")
    if sweep.overrides:
        parts.append("--set " + " ".join(f"`{code_span(o)}`" for o in sweep.overrides))
    parts.append(f"{sweep.started_at} → {sweep.ended_at}")
    return " · ".join(parts)


def mark(e: CellExpectation | None) -> str:
    """An expectation's table cell in sweep.md: the observed value and the verdict's mark, in bold
    when it did not hold; empty when the cell did not judge it."""
    if e is None:
        return ""
    text = f"{fmt_observed(e.observed)} {MARK[e.verdict]}"
    return text if e.verdict == "held" else f"**{text}**"


def _at(value: float | None) -> str:
    return "–" if value is None else fmt_value(value)


def _search_lines(s: SearchResult) -> list[str]:
    return ["## Breaking point", "",
            "| expectation | parameter | holds at | breaks at | outcome | steps | range | tolerance |",
            "|---|---|---|---|---|---|---|---|",
            f"| {md_escape(s.expectation)} | `{code_span(s.path)}` | {_at(s.holds_at)} | {_at(s.breaks_at)} | "
            f"{s.outcome} | {s.steps} | {fmt_value(s.lo)}..{fmt_value(s.hi)} | {s.tolerance:.0%} |", "", md_escape(OUTCOME_TEXT[s.outcome]), ""]


def _cell_row(sweep: Sweep, cell: SweepCell, names: list[str]) -> str:
    values = [md_escape(fmt_value(cell.values[v.path])) if v.path in cell.values else "" for v in sweep.varied]
    status = cell.status
    if cell.error:
        error = cell.error if len(cell.error) <= MD_MAX_ERROR_CHARS else cell.error[: MD_MAX_ERROR_CHARS - 1] + "…"
        status += f": {md_escape(error)}"
    marks = [mark(cell.expectation(n)) for n in names]
    link = f"[report.md]({link_target(cell.dir.rstrip('/') + '/report.md')})"
    return "| " + " | ".join([str(cell.index), *values, status, *marks, link]) + " |"


def _heading(sweep: Sweep, name: str) -> str:
    """An expectation's column heading: its name, and its bound when every cell has the same."""
    judged = [e for c in sweep.cells if (e := c.expectation(name)) is not None]
    bounds = {(e.metric, e.operator, e.threshold) for e in judged}
    if len(bounds) != 1:
        return md_escape(name)
    metric, operator, threshold = bounds.pop()
    return f"{md_escape(name)} ({md_escape(metric)} {md_escape(operator)} {fmt_observed(threshold)})"


def _shown_cells(sweep: Sweep, room: int) -> list[SweepCell]:
    """At most ``room`` cells (at least 3), in run order: the cells that did not pass kept first."""
    if len(sweep.cells) <= room:
        return list(sweep.cells)
    ranked = sorted(sweep.cells, key=lambda c: c.status not in NOT_OK)[: max(3, room)]
    return sorted(ranked, key=lambda c: c.index)


def render_sweep_md(sweep: Sweep) -> str:
    """sweep.md (see the module docstring): the status line, the reason, the search's bracket, one
    row per cell (the cells that did not pass first when they do not all fit), a legend; at most
    :data:`~harness.report.markdown.MAX_LINES` lines, at most :data:`MD_MAX_EXPECTATIONS`
    expectation columns."""
    lines = [f"# {md_escape(sweep.scenario)} sweep: {STATUS_LABEL[sweep.status]}", "", describe(sweep), ""]
    if sweep.reason:
        lines += [md_escape(sweep.reason), ""]
    if sweep.search is not None:
        lines += _search_lines(sweep.search)
    all_names = sweep.expectation_names()
    names = all_names[:MD_MAX_EXPECTATIONS]
    lines += ["## Cells", ""]
    if not sweep.cells:
        return "\n".join(lines + ["No cell has run yet."]) + "\n"
    header = ["#", *(f"`{code_span(v.path)}`" for v in sweep.varied), "status", *(_heading(sweep, n) for n in names),
              "report"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    footer = ["", "✓ held · ✗ failed · ? inconclusive · – not measured"]
    if len(all_names) > len(names):
        footer.append(f"… {len(all_names) - len(names)} more expectations in sweep.html")
    shown = _shown_cells(sweep, MAX_LINES - len(lines) - len(footer) - 2)
    lines += [_cell_row(sweep, c, names) for c in shown]
    if len(shown) < len(sweep.cells):
        footer.insert(0, f"… {len(sweep.cells) - len(shown)} more cells (passed) in sweep.html and sweep.json")
        footer.insert(0, "")
    return "\n".join((lines + footer)[:MAX_LINES]) + "\n"


def render_sweep_html(sweep: Sweep) -> str:
    """sweep.html (see the module docstring): one self-contained page; its plots are PNG ``data:``
    URIs, every string is HTML-escaped."""
    return ENV.get_template("sweep.html.j2").render(
        s=sweep, plots=sweep_plots(sweep), names=sweep.expectation_names(), fmt_value=fmt_value,
        fmt_observed=fmt_observed, outcome_text=OUTCOME_TEXT, max_plotted=MAX_PLOTTED)
