"""The aggregate of ``harness run --repeat N --quorum K`` (the repeats themselves are run by
:mod:`harness.run.repeat`): ``OUT/aggregate.json`` (the source of truth), ``OUT/aggregate.md``
and ``OUT/aggregate.html``, next to each repeat's own reports in ``OUT/repeat-<i>/``.

The aggregate status, and the exit code with it (the rules:
:func:`harness.report.status.decide_aggregate_status`):

- ``passed`` (0): at least K repeats passed;
- ``failed`` (1): quorum missed and the repeats that *failed* (an expectation failed, or an
  abort condition tripped) make it unreachable: more than N - K of them;
- ``inconclusive`` (5) / ``error`` (3): quorum missed, but only because some repeats proved
  nothing either way (``inconclusive`` ones, or ``error`` ones: then the aggregate is ``error``),
  so neither does the aggregate;
- ``interrupted`` (130): Ctrl-C/SIGTERM during a repeat; no further repeat starts.

Per expectation, the aggregate also shows in how many repeats it held.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from harness.report.html import ENV
from harness.report.markdown import MAX_LINES, code_span, md_escape
from harness.report.model import Report
from harness.report.status import PASSING, decide_aggregate_status

AGGREGATE_SCHEMA_VERSION = 1


class RepeatRun(BaseModel):
    """One repeat: its index (1-based), run id, directory (relative to the aggregate's), status,
    error, and the names of the expectations that did not hold."""

    index: int
    run_id: str
    dir: str
    status: str
    error: str | None = None
    failed: list[str] = Field(default_factory=list)


class ExpectationTally(BaseModel):
    """In how many repeats one expectation held, out of the repeats that judged it."""

    name: str
    held: int
    judged: int


class Aggregate(BaseModel):
    """``aggregate.json`` (see the module docstring)."""

    schema_version: int = AGGREGATE_SCHEMA_VERSION
    scenario: str
    repeat: int
    quorum: int
    passed: int
    status: Literal["passed", "failed", "inconclusive", "error", "interrupted"]
    reason: str
    started_at: str
    ended_at: str
    runs: list[RepeatRun] = Field(default_factory=list)
    expectations: list[ExpectationTally] = Field(default_factory=list)


def now_iso() -> str:
    """The current UTC time as ISO-8601 with milliseconds and ``Z`` (as the reports write it)."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def aggregate(scenario: str, reports: list[tuple[str, Report]], repeat: int, quorum: int, started_at: str = "",
              ended_at: str = "") -> Aggregate:
    """The aggregate of the repeats run so far: ``reports`` are (directory, report) pairs in
    order; fewer than ``repeat`` means the rest never ran (interrupted)."""
    runs = [RepeatRun(index=i + 1, run_id=r.run_id, dir=d, status=r.status, error=r.error,
                      failed=[e.name for e in r.expectations if not e.held])
            for i, (d, r) in enumerate(reports)]
    passed = sum(1 for r in runs if r.status in PASSING)
    status, reason = decide_aggregate_status([r.status for r in runs], repeat, quorum)
    tallies: dict[str, ExpectationTally] = {}
    for _, r in reports:
        for e in r.expectations:
            t = tallies.setdefault(e.name, ExpectationTally(name=e.name, held=0, judged=0))
            t.judged += 1
            t.held += int(e.held)
    return Aggregate(scenario=scenario, repeat=repeat, quorum=quorum, passed=passed, status=status, reason=reason,
                     started_at=started_at or (reports[0][1].started_at if reports else now_iso()),
                     ended_at=ended_at or (reports[-1][1].ended_at if reports else now_iso()),
                     runs=runs, expectations=list(tallies.values()))


def render_aggregate_md(agg: Aggregate) -> str:
    """aggregate.md: status line, one row per repeat, one row per expectation (≤ 60 lines)."""
    label = {"passed": "PASSED", "failed": "FAILED", "error": "ERROR", "inconclusive": "INCONCLUSIVE",
             "interrupted": "INTERRUPTED"}[agg.status]
    lines = [f"# {md_escape(agg.scenario)}: {label} ({agg.passed} of {agg.repeat} passed, quorum {agg.quorum})", "",
             md_escape(agg.reason), "", "## Repeats", "", "| repeat | run | status | not held |", "|---|---|---|---|"]
    budget = MAX_LINES - len(lines) - 8
    shown_runs = agg.runs[: max(3, budget // 2)]
    for r in shown_runs:
        lines.append(f"| {r.index} | `{code_span(r.run_id)}` | {r.status} | "
                     f"{md_escape(', '.join(r.failed) or (r.error or ''))} |")
    if len(shown_runs) < len(agg.runs):
        lines += ["", f"… {len(agg.runs) - len(shown_runs)} more repeats in aggregate.html"]
    lines += ["", "## Expectations", "", "| expectation | held in |", "|---|---|"]
    room = MAX_LINES - len(lines) - 2
    for t in agg.expectations[:room]:
        lines.append(f"| {md_escape(t.name)} | {t.held} of {t.judged} |")
    if len(agg.expectations) > room:
        lines += ["", f"… {len(agg.expectations) - room} more expectations in aggregate.html"]
    return "\n".join(lines[:MAX_LINES]) + "\n"


def render_aggregate_html(agg: Aggregate) -> str:
    """aggregate.html: links to each repeat's report.html (relative), and the tallies."""
    return ENV.get_template("aggregate.html.j2").render(a=agg)


def write_aggregate(agg: Aggregate, out_dir: Path) -> dict[str, Path]:
    """Write aggregate.json, aggregate.md and aggregate.html into ``out_dir`` (created if
    missing), each whole or not at all; return their paths by format (``json``, ``md``,
    ``html``).

    Raises:
        harness.report.ReportWriteError: ``out_dir`` cannot be created or written (one line).
    """
    from harness.report.files import write_formats

    texts = {"json": agg.model_dump_json(indent=2) + "\n", "md": render_aggregate_md(agg),
             "html": render_aggregate_html(agg)}
    return write_formats(out_dir, "aggregate", texts)


def regenerate_aggregate(out_dir: Path) -> dict[str, Path]:
    """Re-render aggregate.md/.html from ``aggregate.json`` and every repeat's formats from its
    ``report.json`` (``harness report`` on an aggregate directory). aggregate.json is read like
    a report.json (:func:`harness.report.files.read_json_text`: at most 200 MiB, UTF-8 with or
    without a byte order mark); a repeat's ``dir`` must stay inside ``out_dir`` (a relative
    path without ``..``), since the repeat's files are written there.

    Raises:
        harness.report.ReportFileError: aggregate.json or a repeat's report.json is unreadable,
            damaged or of a newer schema, a repeat's ``dir`` leaves ``out_dir``, or a file cannot
            be written; one line naming the file.
    """
    from harness.report import ReportFileError, regenerate
    from harness.report.files import one_line, read_json_text, validate_json

    file = out_dir / "aggregate.json"
    agg = validate_json(Aggregate, file, read_json_text(file), what="harness aggregate.json")
    if agg.schema_version > AGGREGATE_SCHEMA_VERSION:
        raise ReportFileError(f"{file}: schema_version {agg.schema_version} is newer than this harness reads "
                              f"({AGGREGATE_SCHEMA_VERSION}); upgrade harness")
    for i, r in enumerate(agg.runs):
        if not _inside(r.dir):
            raise ReportFileError(f"{file}: runs.{i}.dir {one_line(repr(r.dir), 120)} is not a directory inside "
                                  f"{out_dir}")
    paths = {f"{fmt}": p for fmt, p in write_aggregate(agg, out_dir).items() if fmt != "json"}
    for r in agg.runs:
        if (out_dir / r.dir / "report.json").is_file():
            for fmt, p in regenerate(out_dir / r.dir).items():
                paths[f"{r.dir}/{fmt}"] = p
    return paths


def _inside(relative: str) -> bool:
    """Whether ``relative`` names a directory below the aggregate's: relative, no ``..``, no NUL."""
    path = Path(relative)
    return bool(relative) and "\x00" not in relative and not path.is_absolute() and ".." not in path.parts
