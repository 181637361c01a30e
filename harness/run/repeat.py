"""``harness run --repeat N --quorum K``: run one scenario N times and pass if K runs passed, to
tame flaky verdicts (one unlucky second should not fail a pipeline; a real regression fails most
repeats).

Each repeat is a full run with its own reports in ``OUT/repeat-<i>/``; the aggregate (its status
from the quorum, :func:`harness.report.status.decide_aggregate_status`) is written to
``OUT/aggregate.json``, ``.md`` and ``.html`` by :mod:`harness.report.repeat`. Every repeat uses
the same seed, so the request mix, fault schedule and kill victims are the same; only timing
varies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

from harness.report.repeat import Aggregate, aggregate, now_iso, write_aggregate
from harness.run.orchestrate import RunResult
from harness.run.orchestrate import execute as run_once
from harness.run.prepare import DEFAULT_REPORTS_DIR, new_run_id
from harness.scenario import LoadedScenario

if TYPE_CHECKING:
    from rich.console import Console

    from harness.report import Report


def run_repeated(loaded: LoadedScenario, repeat: int, quorum: int, out_dir: Path | None = None,
                 seed: int | None = None, console: Console | None = None,
                 execute: Callable[..., RunResult] | None = None,
                 on_result: Callable[[int, RunResult], None] | None = None,
                 strict: bool = False) -> tuple[Aggregate, dict[str, Path]]:
    """Run ``loaded`` ``repeat`` times into ``out_dir/repeat-<i>``; write and return the aggregate
    and its paths by format (``strict``: each repeat counts inconclusive as failed).

    ``out_dir`` defaults to ``reports/<first run id>-x<N>``. ``execute`` is
    :func:`harness.run.execute` (injectable for tests); ``on_result`` is called after each repeat.
    A Ctrl-C between repeats, or a repeat that ends ``interrupted``, stops the series (status
    ``interrupted``).

    Raises:
        ValueError: ``quorum`` is not between 1 and ``repeat``.
        ScenarioError, OutputDirError: the first repeat's preflight failed (nothing started).
        harness.report.ReportWriteError: the aggregate could not be written.
    """
    if not 1 <= quorum <= repeat:
        raise ValueError(f"quorum must be between 1 and the repeat count {repeat} (got {quorum})")
    run = execute or run_once
    out = (out_dir or DEFAULT_REPORTS_DIR / f"{new_run_id()}-x{repeat}").resolve()
    seed = seed if seed is not None else loaded.scenario.seed
    started = now_iso()
    reports: list[tuple[str, Report]] = []
    for i in range(1, repeat + 1):
        try:
            result = run(loaded, out_dir=out / f"repeat-{i}", seed=seed, console=console, strict=strict)
        except KeyboardInterrupt:
            break
        if seed is None:  # the first repeat drew one: keep it for the others
            seed = result.report.seed
        reports.append((f"repeat-{i}", result.report))
        if on_result:
            on_result(i, result)
        if result.report.status == "interrupted":
            break
    agg = aggregate(loaded.scenario.name, reports, repeat, quorum, started, now_iso())
    return agg, write_aggregate(agg, out)
