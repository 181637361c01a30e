"""``matrix.md`` (a table for a PR comment or a wiki) and ``matrix.html`` (one self-contained page,
coloured cells), both rendered from the :class:`~harness.report.matrix.model.Matrix` alone; and
:func:`write_matrix`, which writes them with matrix.json, each file whole or not at all."""

from __future__ import annotations

from pathlib import Path

from harness.report.html import ENV
from harness.report.markdown import MAX_LINES, code_span, link_target, md_escape, num
from harness.report.matrix.cells import describe_age
from harness.report.matrix.model import Matrix, MatrixCell

MARK = {"held": "✅ held", "failed": "❌ FAILED", "inconclusive": "⚠️ inconclusive", "not run": "▫️ not run"}
"""How matrix.md writes each verdict."""

STATUS_LABEL = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "inconclusive": "INCONCLUSIVE",
                "interrupted": "INTERRUPTED"}

_UNITS = (("_mib_s", "MiB/s"), ("_ms", "ms"), ("_s", "s"), ("_pct", "%"))


def key_number(metric: str | None, observed: float | None) -> str:
    """The key number with its unit, named after its metric: ``p99 812 ms``, ``error rate
    0.40 %`` (rates are shown in percent), ``rps 48.2 req/s``, ``symptoms stop 3.2 s``, ``lost
    writes 0``; ``p99 –`` when it was not measured, ``""`` without a metric."""
    if not metric:
        return ""
    if metric.endswith("_rate"):
        return f"{metric.replace('_', ' ')} " + ("–" if observed is None else f"{observed * 100:.2f} %")
    if metric == "rps":
        return f"rps {num(observed)}" + (" req/s" if observed is not None else "")
    for suffix, unit in _UNITS:
        if metric.endswith(suffix):
            label = metric.removesuffix(suffix).replace("_", " ")
            return f"{label} {num(observed)}" + (f" {unit}" if observed is not None else "")
    return f"{metric.replace('_', ' ')} {num(observed)}"


def stale_note(cell: MatrixCell) -> str:
    """Why a cell is stale, short: ``stale: 9 d old`` / ``stale: scenario changed``; ``""``
    when fresh."""
    if not cell.stale:
        return ""
    if cell.stale_reason and "changed" in cell.stale_reason:
        return "stale: scenario changed"
    return f"stale: {describe_age(cell.age_s)} old" if cell.age_s is not None else "stale"


def _md_cell(cell: MatrixCell) -> str:
    """One scenario's text inside a matrix.md table cell."""
    parts = [f"**{MARK[cell.verdict]}**"]
    number = key_number(cell.metric, cell.observed)
    if number:
        parts.append(md_escape(number))
    if cell.stale:
        parts.append(f"🕰 {md_escape(stale_note(cell))}")
    if cell.report:
        parts.append(f"[report]({link_target(cell.report)})")
    return " · ".join(parts)


def render_matrix_md(matrix: Matrix) -> str:
    """matrix.md: the status line, the table (a row per dependency, a column per failure mode,
    each cell its verdict, key number with unit, stale mark and a link to the report), then one
    line per scenario with its key expectation and why it is not held (at most
    :data:`~harness.report.markdown.MAX_LINES` lines)."""
    lines = [f"# Resiliency matrix: {STATUS_LABEL[matrix.status]}", "",
             md_escape(matrix.reason), "",
             f"Scenarios from `{code_span(matrix.scenario_dir)}`, reports from `{code_span(matrix.reports_dir)}`, drawn "
             f"{matrix.generated_at}; a report older than {describe_age(matrix.max_age_s)} is stale.", "",
             "| dependency | " + " | ".join(md_escape(m) for m in matrix.failure_modes) + " |",
             "|---|" + "---|" * len(matrix.failure_modes)]
    for dep in matrix.dependencies:
        row = ["<br>".join(_md_cell(c) for c in matrix.at(dep, mode)) for mode in matrix.failure_modes]
        lines.append(f"| **{md_escape(dep)}** | " + " | ".join(row) + " |")
    lines += ["", "## Scenarios", ""]
    room = MAX_LINES - len(lines) - 1
    for cell in matrix.cells[:room]:
        notes = [f"key: {md_escape(cell.key)}" if cell.key else "", md_escape(cell.stale_reason or ""),
                 md_escape(cell.error) if cell.verdict != "held" and cell.error else ""]
        lines.append(f"- {md_escape(cell.dependency)} x {md_escape(cell.failure_mode)}: `{code_span(cell.scenario_path)}` "
                     + "; ".join([MARK[cell.verdict], *(n for n in notes if n)]))
    if len(matrix.cells) > room:
        lines.append(f"- … {len(matrix.cells) - room} more in matrix.html")
    return "\n".join(lines) + "\n"


def render_matrix_html(matrix: Matrix) -> str:
    """matrix.html: the same table with coloured cells (green held, red failed, amber
    inconclusive, grey not run; stale ones hatched), each linking to its report.html."""
    return ENV.get_template("matrix.html.j2").render(m=matrix, matrix_label=STATUS_LABEL, key_number=key_number,
                                                     stale_note=stale_note, describe_age=describe_age)


def write_matrix(matrix: Matrix, out_dir: Path) -> dict[str, Path]:
    """Write matrix.json, matrix.md and matrix.html into ``out_dir`` (created if missing), each
    whole or not at all (:func:`harness.atomic.write_atomic`); return their paths by format
    (``json``, ``md``, ``html``). Everything is rendered before the first file is written.

    Raises:
        harness.report.ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    from harness.report.files import write_formats

    texts = {"json": matrix.model_dump_json(indent=2) + "\n", "md": render_matrix_md(matrix),
             "html": render_matrix_html(matrix)}
    return write_formats(out_dir, "matrix", texts)
