"""The existing reports under a reports directory, and the newest one of a scenario.

A reports directory may hold thousands of runs, each ``report.json`` up to megabytes (its
per-second series). So each file is first *peeked*: its head (the first
:data:`PEEK_BYTES`) holds the ``scenario`` object, since report.json is written in the model's
field order (``schema_version``, ``run_id``, ``seed``, ``scenario``, ...); only the files of the
scenario asked for are then read whole (:func:`harness.report.load_report`).

A report is the scenario's when its ``scenario.name`` is the scenario's name, it ran with no
``--set`` overrides (a run with ``--set target.profile=naive`` tested something else), and its
``scenario.path`` names a file of the same name (any directory: the path is as the run was
given it). The newest is the one that ended last; a damaged or unreadable report.json is
skipped (its one-line reason is kept for the caller to print).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.report import Report, ReportFileError, load_report
from harness.report.matrix.cells import parse_utc
from harness.scenario import LoadedScenario

PEEK_BYTES = 65_536
"""How much of a report.json is read to learn whose it is (the ``scenario`` object is in its
first few hundred bytes; 64 KiB leaves room for long override lists)."""

MAX_DEPTH = 4
"""How deep under the reports directory report.json files are looked for: ``<run>/``,
``<aggregate>/repeat-<i>/``, ``<sweep>/<cell>/repeat-<i>/``."""

_SCENARIO_KEY = re.compile(r'"scenario"\s*:\s*\{')


@dataclass(frozen=True)
class Peeked:
    """One report.json's ``file`` and its ``scenario`` object, as peeked."""

    file: Path
    scenario: dict


@dataclass
class ReportIndex:
    """Every report.json found under a reports directory (``peeked``), and the files that could
    not be read (``skipped``: one line each, naming the file)."""

    peeked: list[Peeked] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def peek_scenario(file: Path) -> dict | None:
    """The ``scenario`` object of a report.json, read from its head alone; None when the head
    holds none (not a report, or damaged: :func:`index_reports` then reads it whole)."""
    try:
        with file.open("rb") as f:
            head = f.read(PEEK_BYTES).decode("utf-8-sig", errors="replace")
    except OSError:
        return None
    found = _SCENARIO_KEY.search(head)
    if not found:
        return None
    try:
        value, _ = json.JSONDecoder().raw_decode(head, found.end() - 1)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def index_reports(reports_dir: Path) -> ReportIndex:
    """Peek every ``report.json`` under ``reports_dir`` (at most :data:`MAX_DEPTH` directories
    down, in sorted order); a missing directory has none. Never raises for a file's content."""
    index = ReportIndex()
    if not reports_dir.is_dir():
        return index
    for depth in range(1, MAX_DEPTH + 1):
        for file in sorted(reports_dir.glob("/".join(["*"] * depth) + "/report.json")):
            scenario = peek_scenario(file)
            if scenario is None:
                try:
                    scenario = load_report(file).scenario.model_dump()
                except ReportFileError as exc:
                    index.skipped.append(str(exc))
                    continue
            index.peeked.append(Peeked(file, scenario))
    return index


def is_report_of(scenario: dict, loaded: LoadedScenario) -> bool:
    """Whether a report's ``scenario`` object is of ``loaded`` as written (the rule of the module
    docstring)."""
    path = str(scenario.get("path") or "")
    return (scenario.get("name") == loaded.scenario.name and not scenario.get("overrides")
            and (not path or Path(path).name == loaded.path.name))


def newest_report(index: ReportIndex, loaded: LoadedScenario) -> tuple[Report, Path] | None:
    """The newest report of ``loaded`` in ``index`` and its directory, or None. A candidate that
    turns out damaged when read whole is skipped and added to ``index.skipped``."""
    newest: tuple[float, Report, Path] | None = None
    for peeked in index.peeked:
        if not is_report_of(peeked.scenario, loaded):
            continue
        try:
            report = load_report(peeked.file)
        except ReportFileError as exc:
            index.skipped.append(str(exc))
            continue
        ended_s = parse_utc(report.ended_at) or parse_utc(report.started_at) or 0.0
        if newest is None or ended_s > newest[0]:
            newest = (ended_s, report, peeked.file.parent)
    return (newest[1], newest[2]) if newest else None
