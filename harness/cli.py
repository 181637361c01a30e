"""The ``harness`` command line: argument parsing, messages and exit codes only.

Exit codes (:class:`harness.errors.ExitCode`): 0 every expectation held on evidence (or a
measurement run); 1 an expectation failed; 2 invalid scenario or usage; 3 harness or environment
error, or lost request records; 4 aborted by an abort condition; 5 inconclusive (a fault never
took effect, a verdict lacked its evidence); 130 interrupted. ``harness report`` and ``harness
compare`` exit 2 for an input file that is missing, unreadable or damaged, or an output directory
that cannot be written (one line naming the file, never a traceback; docs/reports.md, "Damaged and
hostile input files"); ``harness export`` exits 2 likewise and 3 when a push (Grafana, OTLP)
failed; ``harness cleanup`` exits 3 when a ledger was damaged. ``harness matrix``
exits 0 when every cell held on a fresh report, 1 when a cell failed, 2 for usage (no tagged
scenario, an invalid one, an unwritable --out), 3 when a cell's run ended in an error, 5 when
nothing failed but a cell is inconclusive, not run or stale, 130 when interrupted.
"""

from __future__ import annotations

import gc
import inspect
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from harness import __version__
from harness.errors import ExitCode, HarnessError, ScenarioError

app = typer.Typer(
    help=(
        "Prove that your services' resilience patterns hold: bring up a compose stack, drive "
        "Locust load, inject faults through Toxiproxy and Docker on a timeline, and judge "
        "expectations per window (baseline, fault, recovery).\n\n"
        "Exit codes: 0 passed (or measured), 1 an expectation failed, 2 invalid scenario or usage, "
        "3 harness/environment error or lost request records, 4 aborted by an abort condition, "
        "5 inconclusive (a fault never took effect, or a verdict lacked its evidence), 130 interrupted. "
        "harness compare: 0 no regression, 1 regressed, 2 usage or an unreadable or damaged report.json, "
        "journal.jsonl or requests.tsv, or an unwritable --out, 3 a run was inconclusive. "
        "harness report: 0 written, 2 report.json missing, damaged, of a newer schema, or not writable. "
        "harness export: 0 done, 2 report.json missing or damaged, or usage, 3 a push failed. "
        "harness cleanup: 0 done, 2 usage, 3 engine not answering or a ledger damaged. "
        "harness matrix: 0 every cell held on a fresh report, 1 a cell failed, 2 usage or an invalid scenario, "
        "3 a cell's run ended in an error, 5 a cell inconclusive, not run or stale, 130 interrupted."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
out = Console()
err = Console(stderr=True)

_STATUS_EXIT = {
    "passed": ExitCode.PASSED,
    "measured": ExitCode.PASSED,
    "failed": ExitCode.FAILED,
    "inconclusive": ExitCode.INCONCLUSIVE,
    "error": ExitCode.ERROR,
    "aborted": ExitCode.ABORTED,
    "interrupted": ExitCode.INTERRUPTED,
}


def _version(value: bool) -> None:
    if value:
        out.print(f"harness {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    """harness: chaos engineering and load testing with resilience verdicts."""


def _print_error(line: str) -> None:
    """One error line on stderr, printed as is (no markup, no highlighting, no wrapping)."""
    err.print(line, highlight=False, markup=False, soft_wrap=True)


def _print_problems(problems: list[str]) -> None:
    for line in problems:
        err.print(line, highlight=False, markup=False, soft_wrap=True)


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario YAML files to check.")],
) -> None:
    """Check scenario files without touching anything.

    Prints every error on its own line as [bold]file:line:col: field.path: message[/] (an
    unknown key comes with the nearest valid one) and exits 2 if any file is invalid.

    A valid scenario's compose project is then checked too, through [bold]docker compose
    config[/] (no engine needed, nothing started): the file resolves, the services faults name
    exist, no [bold]container_name[/], edges that can be inserted, a load host that can be
    published. Without compose v2 that part is skipped, with a note.
    """
    from harness.run import check_services
    from harness.scenario import load_scenario

    bad = 0
    for file in files:
        try:
            check_services(load_scenario(file))
        except ScenarioError as exc:
            bad += 1
            _print_problems(exc.problems)
        except HarnessError as exc:  # compose v2 is not installed: the stack part cannot be checked
            err.print(f"{file}: note: compose project not checked: {escape(str(exc))}", highlight=False)
            out.print(f"{file}: ok", highlight=False)
        else:
            out.print(f"{file}: ok", highlight=False)
    raise typer.Exit(ExitCode.USAGE if bad else ExitCode.PASSED)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Report directory \\[default: reports/<run-id>].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed for every random choice (overrides the scenario's).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", metavar="KEY.PATH=VALUE",
        help="Override a scenario field, e.g. --set target.profile=naive or --set faults.0.latency_ms=300. Repeatable.",
    )] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, max=1000, metavar="N",
                                        help="Run the scenario N times (each into OUT/repeat-<i>/).")] = 1,
    quorum: Annotated[Optional[int], typer.Option("--quorum", min=1, metavar="K",
                                                  help="With --repeat: pass when K runs passed \\[default: N].")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Inconclusive fails the run (exit 1): for CI gates that "
                                                          "must prove the pattern every time.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the compose project the run would bring up (the "
                                                            "harness's copy: labels, inserted Toxiproxy, moved "
                                                            "aliases) as YAML, and start nothing.")] = False,
) -> None:
    """Run a scenario: stack up, load, faults on schedule, teardown, then report.json, .md, .html, junit.xml.

    Example: [bold]harness run scenarios/quickstart.yaml --set target.profile=naive[/]

    Every verdict rests on evidence: that the fault acted (traffic crossed its proxy, Docker
    saw the kill...) and that the pattern acted (retries counted, the breaker open...). Where
    that proof is missing the verdict is [bold]inconclusive[/], never held.

    Exit code 0 when every expectation held (or the scenario is a measurement, mode: measure),
    1 when one failed, 2 for an invalid scenario (nothing is started), 3 when the harness or
    the environment failed or request records were lost, 4 when an abort condition tripped,
    5 when the run is inconclusive (nothing failed but a verdict lacked its evidence; exit 1
    with --strict), 130 when interrupted. Containers are removed in every case.

    With [bold]--dry-run[/] nothing starts: the run's copy of the compose project is printed
    (your compose file is never edited), exit 0, or 2 when the preflight finds a problem.

    With [bold]--repeat N --quorum K[/] the scenario runs N times with the same seed; the exit
    code is the aggregate's: 0 when K runs passed, 1 when failed runs put the quorum out of
    reach, 5 when inconclusive runs did (3 when one of them ended in an error), 130 when
    interrupted. OUT/aggregate.{json,md,html}
    show each repeat and the aggregate.
    """
    from harness.environment.compose import find_compose_early

    find_compose_early()
    from harness.run import execute
    from harness.scenario import load_scenario

    if quorum is not None and quorum > repeat:
        err.print(f"--quorum {quorum} is more than --repeat {repeat}", highlight=False)
        raise typer.Exit(ExitCode.USAGE)
    try:
        loaded = load_scenario(scenario, set_ or [])
    except ScenarioError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(ExitCode.USAGE) from None
    if dry_run:
        _print_dry_run(loaded)
    if repeat > 1 or quorum is not None:
        _run_repeated(loaded, repeat, quorum or repeat, out_dir, seed, strict)
    try:
        result = execute(loaded, out_dir=out_dir, seed=seed, console=err, strict=strict)
    except HarnessError as exc:  # the preflight: a bad compose reference, an unwritable --out
        _print_problems(getattr(exc, "problems", None) or [str(exc)])
        raise typer.Exit(exc.exit_code) from None
    _finish_run(result)


def _finish_run(result) -> None:  # noqa: ANN001 (harness.run.RunResult, imported lazily)
    """Print a run's verdicts and report paths, then exit with its status's code."""
    _print_verdicts(result.report)
    for path in result.paths.values():
        out.print(f"report: {path}", highlight=False, soft_wrap=True)
    # Every file is written and closed, the stack is down: spare the interpreter's final garbage
    # collections over pandas' and matplotlib's objects (0.15-0.25 s of every run's exit,
    # measured by bench/run_overhead.py). Memory is released by the process's exit either way.
    gc.freeze()
    raise typer.Exit(_STATUS_EXIT[result.report.status])


@app.command()
def gameday(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file: its stack, proxies, load, faults (by name) "
                                                  "and expectations.")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Report directory \\[default: reports/<run-id>].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed for every random choice (overrides the scenario's).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", metavar="KEY.PATH=VALUE", help="Override a scenario field, as for harness run. Repeatable.")] = None,
    max_duration_s: Annotated[Optional[float], typer.Option(
        "--max-duration-s", min=1, max=86_400, metavar="SECONDS",
        help="The load's cap: the game day ends by itself after this long (same as --set load.duration_s=SECONDS) "
             "\\[default: the scenario's load.duration_s].")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Inconclusive fails the game day (exit 1).")] = False,
) -> None:
    """Run a game day: the stack, proxies and load come up as for harness run, then you inject and revert faults live.

    Example: [bold]harness gameday scenarios/quickstart.yaml --max-duration-s 3600[/]

    Commands, one a line, typed or piped (a game day can be scripted: printf 'inject catalog-slow\\n' | ...):
    [bold]inject NAME[/] a fault the scenario declares (its at_s and duration_s are ignored: it lasts until you
    revert it); [bold]inject KIND key=value...[/] an ad-hoc fault, validated like a scenario's (e.g. inject latency
    proxy=catalog latency_ms=800 name=cat-800; harness faults lists the kinds); [bold]revert NAME[/];
    [bold]note TEXT[/] into the journal and the report's timeline; [bold]status[/] the active faults, rps, errors,
    p99 and the windows so far; [bold]end[/]. Each command is echoed on stderr with its UTC time; a bad one gets a
    one-line error and changes nothing.

    The game day ends on end, at the end of the input (a pipe's end, a lost terminal) or when the load reaches
    load.duration_s; every active fault is then reverted, the load drains, the stack comes down and the reports are
    written as by harness run: each inject and revert makes fault:NAME and recovery:NAME windows judged by the
    scenario's expectations (those on faults you never injected are not judged). Ctrl-C reverts everything, tears
    down and writes the report too (exit 130).

    Exit codes as harness run: 0 every expectation held, 1 one failed, 2 invalid scenario or usage (nothing is
    started), 3 harness or environment error, 4 aborted, 5 inconclusive, 130 interrupted.
    """
    from harness.gameday import play
    from harness.scenario import load_scenario

    overrides = [*(set_ or []), *([f"load.duration_s={max_duration_s:g}"] if max_duration_s is not None else [])]
    try:
        loaded = load_scenario(scenario, overrides, schedule=False)
        result = play(loaded, out_dir=out_dir, seed=seed, console=err, strict=strict)
    except HarnessError as exc:  # an invalid scenario, the preflight, an unwritable --out
        _print_problems(getattr(exc, "problems", None) or [str(exc)])
        raise typer.Exit(exc.exit_code) from None
    _finish_run(result)


def _print_dry_run(loaded) -> None:  # noqa: ANN001 (harness.scenario.LoadedScenario, imported lazily)
    from harness.run import dry_run

    try:
        text = dry_run(loaded)
    except HarnessError as exc:
        _print_problems(getattr(exc, "problems", None) or [str(exc)])
        raise typer.Exit(exc.exit_code) from None
    out.print(text, highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(ExitCode.PASSED)


def _print_verdicts(report) -> None:  # noqa: ANN001 (harness.report.Report, imported lazily)
    for effect in report.fault_effects:
        if not effect.seen:
            err.print(f"[yellow]no effect[/] fault {escape(effect.window)}: {escape(effect.evidence)}", highlight=False,
                      soft_wrap=True)
    for exp in report.expectations:
        mark = "[green]held[/]  " if exp.held else "[yellow]INCONCLUSIVE[/]" if exp.inconclusive else "[red]FAILED[/]"
        err.print(f"{mark} {escape(exp.name)}: {escape(exp.explanation)}", highlight=False, soft_wrap=True)
    colour = {"passed": "green", "measured": "green", "failed": "red"}.get(report.status, "yellow")
    err.print(f"[bold {colour}]{report.status.upper()}[/]" + (f": {escape(report.error)}" if report.error else ""),
              highlight=False, soft_wrap=True)


def _run_repeated(loaded, repeat: int, quorum: int, out_dir: Optional[Path], seed: Optional[int],  # noqa: ANN001
                  strict: bool = False) -> None:
    from harness.run import execute
    from harness.run.repeat import run_repeated

    def progress(i: int, result) -> None:  # noqa: ANN001
        err.print(f"[bold]repeat {i} of {repeat}[/]: {result.report.status} ({result.run_dir})", highlight=False)

    try:
        agg, paths = run_repeated(loaded, repeat, quorum, out_dir=out_dir, seed=seed, console=err, execute=execute,
                                  on_result=progress, strict=strict)
    except ScenarioError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(ExitCode.USAGE) from None
    colour = {"passed": "green", "failed": "red"}.get(agg.status, "yellow")
    err.print(f"[bold {colour}]{agg.status.upper()}[/]: {escape(agg.reason)}", highlight=False, soft_wrap=True)
    for path in paths.values():
        out.print(f"aggregate: {path}", highlight=False, soft_wrap=True)
    raise typer.Exit(_STATUS_EXIT[agg.status])


@app.command()
def sweep(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    vary: Annotated[Optional[list[str]], typer.Option(
        "--vary", metavar="PATH=V1,V2,...",
        help="A scenario field and its values, e.g. faults.0.latency_ms=250,1000,4000 or load.users=5,20. "
             "Repeatable: the cells are every combination.")] = None,
    search: Annotated[Optional[str], typer.Option(
        "--search", metavar="PATH=LO..HI",
        help="Instead of a grid: bisect one numeric field between LO and HI to the breaking point of --expectation.")] = None,
    expectation: Annotated[Optional[str], typer.Option(
        "--expectation", metavar="NAME", help="With --search: the expectation whose breaking point is sought.")] = None,
    tolerance: Annotated[float, typer.Option(
        "--tolerance", min=0.001, max=1.0, metavar="FRACTION",
        help="With --search: stop when the bracket is this narrow, relative to its value (0.05 = 5 %).")] = 0.05,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", metavar="KEY.PATH=VALUE", help="Override a field in every cell, as for harness run. Repeatable.")] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, max=100, metavar="N",
                                        help="Run each cell N times; a cell passes when --quorum runs passed.")] = 1,
    quorum: Annotated[Optional[int], typer.Option("--quorum", min=1, metavar="K",
                                                  help="With --repeat: runs that must pass per cell \\[default: N].")] = None,
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Sweep directory \\[default: reports/sweep-<id>].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed for every cell (overrides the scenario's).")] = None,
    fresh_stack: Annotated[bool, typer.Option(
        "--fresh-stack", help="Bring a stack up and down for every cell, even when they could share one.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Inconclusive fails a cell, as for harness run.")] = False,
) -> None:
    """Find where a pattern stops holding: run a scenario over a grid of settings, or bisect one.

    Example: [bold]harness sweep scenarios/quickstart.yaml --vary faults.0.latency_ms=250,1000,4000
    --vary load.users=5,20[/] runs 6 cells. Each cell is a normal run with its own report
    (OUT/cell-01/ ...); OUT/sweep.json, sweep.md and sweep.html show every cell, each
    expectation's observed value against its threshold, and a plot: the value against the
    parameter for one --vary, a pass/fail heat map for two.

    Example: [bold]harness sweep scenarios/quickstart.yaml --set target.profile=naive --search
    faults.0.latency_ms=250..4000 --expectation "product p99 bounded while catalog is slow"[/]
    bisects the latency to where that expectation breaks, within --tolerance.

    When only load, faults and expectations vary, the cells share one stack: it comes up once,
    and between cells Toxiproxy is reset, stopped or paused containers are started again and
    the stack must be healthy again (each cell's baseline then checks the steady state).
    [bold]--fresh-stack[/] turns that off. Ctrl-C ends the sweep and still writes its report
    of the cells done; nothing is left running.

    Exit code (grid) 0 every cell passed, 1 a cell failed, 3 a cell ended in an error, 5 a
    cell was inconclusive, 2 bad arguments or a cell's scenario invalid (nothing started),
    130 interrupted. A search is a measurement: 0 when it ran to its end (the breaking point,
    or none in the range), 5 (3) when a step was inconclusive (errored), 2, 130 as above.
    """
    from harness.environment.compose import find_compose_early

    find_compose_early()
    from harness.sweep import SweepOptions, parse_search, parse_vary, run_grid, run_search

    if bool(vary) == bool(search) or (search and not expectation) or (expectation and not search):
        err.print("give either --vary (one or more) or --search with --expectation", highlight=False)
        raise typer.Exit(ExitCode.USAGE)
    if quorum is not None and quorum > repeat:
        err.print(f"--quorum {quorum} is more than --repeat {repeat}", highlight=False)
        raise typer.Exit(ExitCode.USAGE)
    options = SweepOptions(scenario, set_ or [], out_dir, seed, repeat, quorum or repeat, strict,
                           share=not fresh_stack, console=err, on_cell=_print_cell, on_start=_print_cell_start)
    try:
        if search:
            result, paths = run_search(options, parse_search(search), expectation or "", tolerance)
        else:
            result, paths = run_grid(options, [parse_vary(text) for text in vary or []])
    except HarnessError as exc:
        _print_problems(getattr(exc, "problems", None) or [str(exc)])
        raise typer.Exit(exc.exit_code) from None
    colour = {"passed": "green", "measured": "green", "failed": "red"}.get(result.status, "yellow")
    err.print(f"[bold {colour}]{result.status.upper()}[/]: {escape(result.reason)}", highlight=False, soft_wrap=True)
    for path in paths.values():
        out.print(f"sweep: {path}", highlight=False, markup=False, soft_wrap=True)
    gc.freeze()  # as after a run (_finish_run): no final collections over pandas' and matplotlib's objects
    raise typer.Exit(_STATUS_EXIT[result.status])


def _print_cell_start(index: int, values: dict, planned: Optional[int]) -> None:
    of = f" of {planned}" if planned else ""
    shown = " ".join(f"{k}={v}" for k, v in values.items())
    err.print(f"[bold]cell {index}{of}[/] {escape(shown)}: starting", highlight=False, soft_wrap=True)


def _print_cell(cell, planned) -> None:  # noqa: ANN001 (harness.report.sweep.SweepCell, imported lazily)
    of = f" of {planned}" if planned else ""
    values = " ".join(f"{k}={v}" for k, v in cell.values.items())
    not_held = [e.name for e in cell.expectations if e.verdict != "held"]
    err.print(f"[bold]cell {cell.index}{of}[/] {escape(values)}: {cell.status}"
              + (f" (not held: {escape(', '.join(dict.fromkeys(not_held)))})" if not_held else ""),
              highlight=False, soft_wrap=True)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (or its report.json); also an aggregate "
                                                 "directory of --repeat, or a sweep directory.")],
) -> None:
    """Regenerate report.md, report.html and junit.xml from report.json alone.

    Exit code 0 when written; 2 when report.json (or aggregate.json) is missing, unreadable,
    damaged (empty, cut short, not UTF-8, not JSON, not a report, over 200 MiB), of a newer
    schema, or the directory cannot be written. Every error is one line naming the file, and
    a file is either rewritten whole or left as it was.
    """
    from harness.report import ReportFileError, regenerate
    from harness.report.repeat import regenerate_aggregate
    from harness.report.sweep import regenerate_sweep

    try:
        if run_dir.is_dir() and (run_dir / "aggregate.json").is_file():
            paths = regenerate_aggregate(run_dir)
        elif (run_dir.is_dir() and (run_dir / "sweep.json").is_file()) or run_dir.name == "sweep.json":
            paths = regenerate_sweep(run_dir)
        else:
            paths = regenerate(run_dir)
    except ReportFileError as exc:
        _print_error(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    for path in paths.values():
        out.print(f"report: {path}", highlight=False, markup=False, soft_wrap=True)


@app.command(name="export")
def export_run(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (or its report.json).")],
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Where grafana-annotations.json and metrics.prom go \\[default: the run directory].")] = None,
    grafana_url: Annotated[Optional[str], typer.Option(
        "--grafana-url", metavar="URL", help="Also POST each annotation to URL/api/annotations.")] = None,
    grafana_token_env: Annotated[Optional[str], typer.Option(
        "--grafana-token-env", metavar="NAME",
        help="The environment variable holding a Grafana token, sent as a Bearer token.")] = None,
    otlp_endpoint: Annotated[Optional[str], typer.Option(
        "--otlp-endpoint", metavar="URL",
        help="Send the run's spans over OTLP/HTTP to URL (/v1/traces is added) \\[default: "
             "OTEL_EXPORTER_OTLP_ENDPOINT when set, else none].")] = None,
) -> None:
    """Export a finished run for the tools SREs watch: Grafana annotations, Prometheus metrics,
    OpenTelemetry spans.

    Example: [bold]harness export reports/RUN_ID --grafana-url http://grafana:3000
    --grafana-token-env GRAFANA_TOKEN --otlp-endpoint http://collector:4318[/]

    Always writes grafana-annotations.json (a region per fault window, a point per verdict and per
    operator note, ready for POST /api/annotations) and metrics.prom (each window's latency
    percentiles, rps, error rate and requests, and each verdict, in Prometheus' text format) from
    report.json and the notes in journal.jsonl. Pushes only where asked; the token is read from
    the environment and never written. Runs never export unless asked (docs/exports.md).

    Exit code 0 when done; 2 when report.json is missing or damaged (one line naming the file),
    --out cannot be written or an option is invalid; 3 when a push failed (one line naming the
    URL and the HTTP status; the files are written all the same).
    """
    import os

    from harness.export import PushError, otlp_endpoint as resolve_otlp, read_run, write_exports
    from harness.report import ReportFileError

    token = _export_token(grafana_token_env, grafana_url)
    otlp_url = resolve_otlp(otlp_endpoint, os.environ)
    for name, url in (("--grafana-url", grafana_url), ("--otlp-endpoint", otlp_url)):
        if url is not None and not _http_url(url):
            _print_error(f"error: {name} {url!r} is not an http:// or https:// URL")
            raise typer.Exit(ExitCode.USAGE)
    try:
        run = read_run(run_dir)
        paths = write_exports(run, out_dir or run.run_dir)
    except ReportFileError as exc:
        _print_error(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    for path in paths.values():
        out.print(f"export: {path}", highlight=False, markup=False, soft_wrap=True)
    failed = False
    for push in (lambda: _push_grafana(run, grafana_url, token), lambda: _push_otlp(run, otlp_url)):
        try:
            push()
        except PushError as exc:
            _print_error(f"error: {exc}")
            failed = True
    raise typer.Exit(ExitCode.ERROR if failed else ExitCode.PASSED)


def _export_token(env_name: Optional[str], grafana_url: Optional[str]) -> Optional[str]:
    """The Grafana token from the environment variable ``env_name``; exits 2 when it is unset
    or given without --grafana-url."""
    import os

    if env_name is None:
        return None
    if grafana_url is None:
        _print_error("error: --grafana-token-env needs --grafana-url")
        raise typer.Exit(ExitCode.USAGE)
    token = os.environ.get(env_name, "").strip()
    if not token:
        _print_error(f"error: --grafana-token-env {env_name}: that environment variable is not set or empty")
        raise typer.Exit(ExitCode.USAGE)
    return token


def _http_url(url: str) -> bool:
    """True for an http:// or https:// URL with a host."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        return False


def _push_grafana(run, url: Optional[str], token: Optional[str]) -> None:  # noqa: ANN001 (harness.export.RunSource)
    """POST the run's annotations to Grafana when a URL was given. Raises PushError."""
    from harness.export import annotations, push_annotations

    if url is not None:
        count = push_annotations(annotations(run), url, token)
        out.print(f"grafana: {count} annotations pushed to {url}", highlight=False, markup=False, soft_wrap=True)


def _push_otlp(run, url: Optional[str]) -> None:  # noqa: ANN001 (harness.export.RunSource)
    """Send the run's spans over OTLP/HTTP when an endpoint was given. Raises PushError."""
    from harness.export import build_spans, push_spans

    if url is not None:
        count = push_spans(build_spans(run), url)
        out.print(f"otlp: {count} spans sent to {url}", highlight=False, markup=False, soft_wrap=True)


@app.command()
def compare(
    before: Annotated[Path, typer.Argument(help="The BEFORE run directory or report.json (or sweep directory or sweep.json).")],
    after: Annotated[Path, typer.Argument(help="The AFTER run directory or report.json (or sweep directory or sweep.json).")],
    max_regression: Annotated[Optional[list[str]], typer.Option(
        "--max-regression", metavar="METRIC[@WINDOW]=LIMIT",
        help="How much worse AFTER may be: relative (p99_ms=10%) or absolute in the metric's unit "
             "(error_rate=0.01); in every window, or one (p99_ms@fault:catalog-slow=20%). Repeatable.",
    )] = None,
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Where compare.json/.md/.html go \\[default: AFTER's run or sweep directory].")] = None,
    ignore_significance: Annotated[bool, typer.Option(
        "--ignore-significance", help="Gate on the numbers alone, even when a change is not significant.")] = False,
) -> None:
    """Compare two runs (before/after a change): metric deltas with significance, flipped verdicts.

    Per window and metric: before, after, delta, relative change and significance (a
    moving-block bootstrap interval over whole seconds of the run: throughput and error rate
    from report.json's series; latency percentiles recomputed, with the one percentile of the
    windows, from the raw latencies in requests.tsv next to report.json, and not judged
    without them).

    Exit code 0 when AFTER did not regress, 1 when a verdict flipped from held or a metric got
    worse beyond its --max-regression limit (significantly, or where significance cannot be
    judged), 2 for bad arguments, an unreadable or damaged report.json, a damaged
    journal.jsonl or requests.tsv next to it (a torn last line is skipped), or an --out that
    cannot be written (one line naming the file), 3 when either run is inconclusive (ended
    error, inconclusive or interrupted).

    Two sweeps (directories holding sweep.json) are compared cell by cell, matched by their
    values: verdicts flipped, observed values moved, the breaking point moved; exit 1 when a cell
    regressed or the breaking point moved earlier, 3 when a cell proves nothing, 2 for a sweep
    against a run.
    """
    from harness.compare import CompareInputError, LimitError, compare_paths, parse_limit, sweep_inputs
    from harness.report import ReportFileError

    try:
        if sweep_inputs(before, after):
            _compare_sweeps(before, after, out_dir, bool(max_regression))
        limits = [parse_limit(text) for text in max_regression or []]
        comparison, paths = compare_paths(before, after, limits, out_dir, ignore_significance)
    except (LimitError, ReportFileError, CompareInputError) as exc:
        _print_error(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    for v in comparison.flipped:
        colour = "red" if v.regression else "green"
        err.print(f"[{colour}]flipped[/] {escape(v.name)}: {v.before} -> {v.after}", highlight=False, soft_wrap=True)
    for m in comparison.metrics:
        if (m.significant and m.direction == "worse" and m.metric in ("p99_ms", "error_rate", "rps")) or m.regressed:
            rel = f" ({m.relative:+.1%})" if m.relative is not None else ""
            mark = "[red]REGRESSED[/] " if m.regressed else ""
            sig = "significant" if m.significant else "not significant" if m.significant is False else "n/a"
            err.print(f"{mark}{escape(m.window)} {m.metric}: {m.before:.4g} -> {m.after:.4g}{rel}, {sig}"
                      if m.before is not None and m.after is not None else f"{escape(m.window)} {m.metric}: n/a",
                      highlight=False, soft_wrap=True)
    _end_compare(comparison.outcome, comparison.reasons, paths)


def _end_compare(outcome: str, reasons: list[str], paths: dict[str, Path]) -> None:
    """The end of ``harness compare`` (of runs or of sweeps): the outcome line on stderr, the
    files written on stdout, then ``typer.Exit`` with the outcome's code."""
    from harness.compare import OUTCOME_EXIT

    colour = {"ok": "green", "regressed": "red"}.get(outcome, "yellow")
    err.print(f"[bold {colour}]{outcome.upper()}[/]" + (": " + escape("; ".join(reasons)) if reasons else ""),
              highlight=False, soft_wrap=True)
    for path in paths.values():
        out.print(f"compare: {path}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(OUTCOME_EXIT[outcome])


def _compare_sweeps(before: Path, after: Path, out_dir: Path | None, limited: bool) -> None:
    """``harness compare`` of two sweeps: the moved cells on stderr, the files on stdout; always
    ends in ``typer.Exit`` (0 ok, 1 regressed, 3 inconclusive). Raises LimitError for
    ``--max-regression`` (it gates a run's window metrics) and ReportFileError for a damaged
    sweep.json or an unwritable ``--out``."""
    from harness.compare import LimitError, compare_sweep_paths
    from harness.compare.sweeps import describe_move, values_text

    if limited:
        raise LimitError("--max-regression gates a run's window metrics; two sweeps are compared by their cells' "
                         "verdicts and breaking point")
    comparison, paths = compare_sweep_paths(before, after, out_dir)
    for cell in comparison.moved:
        for e in cell.expectations:
            if e.change != "same":
                colour = {"regressed": "red", "improved": "green"}.get(e.change, "yellow")
                err.print(f"[{colour}]{e.change.replace('_', ' ')}[/] {escape(values_text(cell.values))}: "
                          f"{escape(e.name)}: {describe_move(e)}", highlight=False, soft_wrap=True)
    bp = comparison.breaking_point
    if bp is not None:
        err.print(f"breaking point of {escape(bp.expectation)}: {bp.moved} ({escape(bp.note)})", highlight=False,
                  soft_wrap=True)
    _end_compare(comparison.outcome, comparison.reasons, paths)


@app.command()
def matrix(
    scenario_dir: Annotated[Path, typer.Argument(help="A directory of scenarios; those with a matrix: tag are its cells.")],
    reports_dir: Annotated[Path, typer.Option("--reports", help="Where existing reports are read from and new runs "
                                                                 "go (REPORTS/<run id>/).")] = Path("reports"),
    out_dir: Annotated[Optional[Path], typer.Option(
        "--out", help="Where matrix.json/.md/.html go \\[default: REPORTS/matrix-<run id>].")] = None,
    run_all: Annotated[bool, typer.Option("--run", help="Run every tagged scenario, even those with a report.")] = False,
    no_run: Annotated[bool, typer.Option("--no-run", help="Run nothing: draw from existing reports; a scenario "
                                                          "without one is a blank cell.")] = False,
    max_age: Annotated[str, typer.Option("--max-age", metavar="DURATION", help="A report older than this is "
                                         "marked stale (s, m, h, d, w: 24h, 7d).")] = "7d",
) -> None:
    """Draw the resiliency matrix: a row per dependency, a column per failure mode, each cell
    held / failed / inconclusive / not run, with its key number and a link to its report.

    Example: [bold]harness matrix scenarios/patterns[/]  (the sample shop's matrix)

    A scenario joins the matrix with [bold]matrix: {dependency: catalog, failure_mode: slow}[/]
    (failure modes: slow, hang, down, resets, dns, killed replica, stopped replica, frozen
    replica, crash loop, node lost, starved, overload, sustained load). Each cell is the newest
    report of its scenario under --reports (run as written: reports of runs with --set do not
    count); a scenario without one is run first, as [bold]harness run[/] would (--run: run every
    one; --no-run: run none). A report older than --max-age (default 7d), or of an older version
    of the scenario file, is marked stale: shown, never hidden.

    Exit code 0 when every cell held on a fresh report; 1 when a cell failed; 2 for usage (no
    such directory, no tagged scenario, an invalid scenario file: nothing is run; an --out that
    cannot be written); 3 when a cell's run ended in an error or could not start; 5 when nothing
    failed but a cell is inconclusive, not run or stale; 130 when interrupted (the cells done are
    drawn).
    """
    from harness.matrix import MatrixSettings, MatrixUsageError, collect_matrix, default_out_dir, parse_age
    from harness.matrix import tagged_scenarios
    from harness.report import ReportFileError
    from harness.report.matrix import write_matrix

    try:
        if run_all and no_run:
            raise MatrixUsageError("give at most one of --run and --no-run")
        settings = MatrixSettings(scenario_dir, reports_dir, out_dir or default_out_dir(reports_dir),
                                  "always" if run_all else "never" if no_run else "missing", parse_age(max_age))
        tagged = tagged_scenarios(scenario_dir)
    except ScenarioError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(ExitCode.USAGE) from None
    except MatrixUsageError as exc:
        _print_error(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    drawn, notes = collect_matrix(tagged, settings, console=err,
                                  progress=lambda line: err.print(line, highlight=False, markup=False, soft_wrap=True))
    _print_problems(notes)
    try:
        paths = write_matrix(drawn, settings.out_dir)
    except ReportFileError as exc:
        _print_error(f"error: {exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    _print_matrix(drawn)
    for path in paths.values():
        out.print(f"matrix: {path}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(_STATUS_EXIT[drawn.status])


def _print_matrix(drawn) -> None:  # noqa: ANN001 (harness.report.matrix.Matrix, imported lazily)
    """The matrix as a table on stderr, each cell coloured by its verdict, then its status."""
    from rich.table import Table

    from harness.report.matrix import key_number

    colour = {"held": "green", "failed": "red", "inconclusive": "yellow", "not run": "dim"}
    table = Table(show_lines=True, title="resiliency matrix", title_justify="left")
    table.add_column("dependency", no_wrap=True)
    for mode in drawn.failure_modes:
        table.add_column(mode, overflow="fold")
    for dep in drawn.dependencies:
        row = ["\n".join(f"[{colour[c.verdict]}]{c.verdict}[/] {escape(key_number(c.metric, c.observed))}"
                         + (" [yellow](stale)[/]" if c.stale else "") for c in drawn.at(dep, mode))
               for mode in drawn.failure_modes]
        table.add_row(escape(dep), *row)
    err.print(table)
    tone = {"passed": "green", "failed": "red"}.get(drawn.status, "yellow")
    err.print(f"[bold {tone}]{drawn.status.upper()}[/]: {escape(drawn.reason)}", highlight=False, soft_wrap=True)


class SchemaKind(str, Enum):
    """Which JSON Schema ``harness schema`` prints."""

    report = "report"
    scenario = "scenario"


@app.command()
def schema(
    kind: Annotated[SchemaKind, typer.Argument(help="report (report.json) or scenario (scenario files, for editors).")],
) -> None:
    """Print the JSON Schema of report.json or of a scenario file (draft 2020-12)."""
    import json

    from harness.report.schema import schema_for

    typer.echo(json.dumps(schema_for(kind.value), indent=2))


@app.command()
def faults(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every fault kind: its parameters with units and defaults, the real failure it
    simulates, how a run proves that it acted (a window whose fault did not act is judged
    inconclusive), and the section of the seed documents it comes from."""
    import json

    from rich.table import Table

    from harness.scenario.faults.describe import COMMON_PARAMETERS, describe_kinds

    kinds = describe_kinds()
    if as_json:
        typer.echo(json.dumps({"common": COMMON_PARAMETERS, "kinds": kinds}, indent=2, default=str))
        return
    table = Table(title="fault kinds (every kind also takes: " + ", ".join(COMMON_PARAMETERS) + ")",
                  show_lines=True, title_justify="left")
    for column in ("kind", "parameters", "simulates", "proven acted when", "seed"):
        table.add_column(column, overflow="fold")
    for k in kinds:
        params = "\n".join(
            f"{p['name']}" + (f" ({p['unit']})" if p["unit"] else "")
            + (" (required)" if p["required"] else f" = {p['default']}")
            for p in k["parameters"]  # type: ignore[union-attr]
        )
        table.add_row(str(k["kind"]), params, str(k["summary"]), str(k["effect_evidence"]), str(k["seed_section"]))
    out.print(table)


@app.command()
def cleanup(
    run_id: Annotated[Optional[str], typer.Option("--run-id", help="Clean up one run (its id is in report.json).")] = None,
    all_runs: Annotated[bool, typer.Option("--all", help="Clean up every run this machine knows of or Docker labels.")] = False,
) -> None:
    """Undo what runs left behind (after a SIGKILL, a crash or a power cut): replay their cleanup
    ledgers (compose projects, host helper processes, external toxics) and remove every container,
    network and volume labelled [bold]harness.run-id[/]. Idempotent; prints what it removed.

    A damaged ledger (lines that are not entries; a torn last line is not damage) does not stop
    it: every readable entry is replayed and the label sweep runs, then one line per damaged
    file says which lines could not be read.

    Exit code 0 when done, 2 for bad arguments, 3 when the Docker engine does not answer or a
    ledger (or the run index) was damaged.
    """
    from harness.environment.cleanup import cleanup as do_cleanup
    from harness.errors import EnvironmentFailure

    if bool(run_id) == all_runs:
        _print_error("give exactly one of --run-id ID or --all")
        raise typer.Exit(ExitCode.USAGE)
    try:
        done = do_cleanup(run_id)
    except EnvironmentFailure as exc:
        _print_error(str(exc))
        raise typer.Exit(ExitCode.ERROR) from None
    for line in done:
        out.print(line, highlight=False, markup=False, soft_wrap=True)
    if not done:
        out.print("nothing to clean up")
    for damage in done.damaged:
        _print_error(damage.describe())
    if done.damaged:
        raise typer.Exit(ExitCode.ERROR)


@app.command()
def worker(
    master: Annotated[str, typer.Option("--master", help="The run's Locust master, HOST:PORT: an address of the "
                                        "machine running harness run and the port of its load.master_bind.")],
    host: Annotated[Optional[str], typer.Option("--host", help="The target's URL as reached from this host "
                                                "(default: the run's load.host, which may be loopback there).")] = None,
    timeout_s: Annotated[float, typer.Option("--timeout-s", min=1, help="How long to wait for the master "
                                             "to answer, seconds.")] = 300.0,
) -> None:
    """Add this host's CPU to a run's load: join its Locust master as a remote worker.

    The scenario asks for remote workers with [bold]load.workers: {local: N, remote: M}[/] and
    [bold]load.master_bind: 0.0.0.0:5557[/]; [bold]harness run[/] then waits for M workers
    (load.workers.join_timeout_s) before the load starts. This command needs no scenario file:
    it fetches the run's load spec (request mix or locustfile source) from the master, measures
    its clock against the master's (its records are moved into the master's clock; the offsets
    are in the report), runs the users the master gives it and streams every record back.

    It serves one run and exits 0 when the master says quit; exit 2 when no master answered
    within --timeout-s or the address is malformed. docs/scale-out.md has the details.
    """
    import os
    import re
    import sys

    if not re.fullmatch(r"[^\s:]+:\d{1,5}", master):
        _print_error(f"--master {master!r}: expected HOST:PORT, e.g. 10.0.0.5:5557")
        raise typer.Exit(ExitCode.USAGE)
    if host is not None and not re.match(r"^https?://[^/\s]+", host):
        _print_error(f"--host {host!r}: expected a URL such as http://10.0.0.7:8080")
        raise typer.Exit(ExitCode.USAGE)
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "harness.load.worker", "--join", master, host or "-", str(timeout_s)])


@app.command()
def doctor() -> None:
    """Check the prerequisites (engine, compose v2, images, Toxiproxy, free disk): ok or the fix."""
    from harness.environment.doctor import run_checks

    checks = run_checks()
    for check in checks:
        mark = "[green]ok  [/]" if check.ok else "[red]FAIL[/]"
        out.print(f"{mark} {check.name:<10} {check.detail}", highlight=False, soft_wrap=True)
    raise typer.Exit(ExitCode.PASSED if all(c.ok for c in checks) else ExitCode.ERROR)


@app.command()
def init(
    compose_file: Annotated[Path, typer.Argument(help="Your compose file (read through `docker compose config`, "
                                                      "never changed).")],
    out_file: Annotated[Path, typer.Option("--out", help="The scenario file to write (in the current directory by "
                                                         "default).")] = Path("harness-scenario.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Write a commented starter scenario for your own compose stack.

    Example: [bold]harness init docker-compose.yml --out game-day.yaml[/]
    then     [bold]harness run game-day.yaml[/]

    The compose file is read through [bold]docker compose config[/] (the
    compose binary only, no engine) and never changed. What gets written:

    - load.host: the service publishing an HTTP-looking port (80, 8080,
      8000...), else the service nobody dials;
    - one edge proxy per dependency found: depends_on, and host names in
      environment values (DATABASE_URL=postgres://u:p@db:5432/x,
      REDIS_HOST=redis); the harness inserts Toxiproxy on them at run time;
    - a 300 ms latency fault on the first edge and a kill of the service
      behind it, on a 70 s timeline;
    - expectations (error rate, p99) to edit.

    Every section carries a comment saying what to change, and the file
    passes [bold]harness validate[/]. Paths in it are relative to the file.

    Exit code 0 when written; 2 when the compose file is missing or
    compose rejects it, or --out exists (without --force) or cannot be
    written: nothing is written then; 3 when compose v2 is not installed.
    """
    from harness.starter import init_scenario

    try:
        result = init_scenario(compose_file, out_file, force=force)
    except HarnessError as exc:
        _print_error(f"error: {' '.join(str(exc).split())}")
        raise typer.Exit(exc.exit_code) from None
    except OSError as exc:
        _print_error(f"error: {out_file}: cannot write: {exc.strerror or exc}")
        raise typer.Exit(ExitCode.USAGE) from None
    found = result.sketch
    entry = found.entry.host if found.entry else "none found (edit load.host)"
    proxies = [w.name for w in found.hand_wired] or [e.upstream for e in found.edges]
    out.print(f"wrote {result.path}: load host {entry}; proxies: {', '.join(proxies) or 'none found'}",
              highlight=False, markup=False, soft_wrap=True)
    for note in result.notes:
        _print_error(f"note: {note}")
    out.print(f"next: harness validate {result.path} && harness run {result.path}", highlight=False, markup=False,
              soft_wrap=True)


def _unwrap(doc: str) -> str:
    """A docstring as --help paragraphs: the lines of each paragraph joined, so that rich wraps
    them to the terminal's width (typer keeps a docstring's own line breaks in rich mode)."""
    paragraphs = inspect.cleandoc(doc).split("\n\n")
    return "\n\n".join(" ".join(line.strip() for line in p.splitlines()) for p in paragraphs)


for _command in app.registered_commands:
    if _command.callback is not None and _command.callback.__doc__:
        _command.help = _unwrap(_command.callback.__doc__)


def main() -> None:
    """Console-script entry point.

    The last guard against a traceback: an exception no command turned into its message (a bug
    of ours) is printed as one line and exits 3; ``HARNESS_DEBUG=1`` shows the traceback."""
    import os
    import sys

    try:
        app()
    except Exception as exc:  # noqa: BLE001 (anything a command did not turn into its one line)
        if os.environ.get("HARNESS_DEBUG"):
            raise
        text = " ".join(str(exc).split())[:300]
        err.print(f"harness: internal error: {type(exc).__name__}: {text} (a bug; HARNESS_DEBUG=1 shows the "
                  "traceback)", highlight=False, markup=False, soft_wrap=True)
        sys.exit(ExitCode.ERROR)
