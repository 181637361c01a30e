"""The ``harness`` command line: argument parsing, messages and exit codes only.

Exit codes: 0 every expectation held; 1 an expectation failed; 2 invalid scenario or usage;
3 inconclusive: harness or environment error, or a baseline that broke the steady state (never
a pass); 4 aborted by an abort condition; 130 interrupted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from harness import __version__
from harness.errors import ExitCode, ScenarioError

app = typer.Typer(
    help=(
        "Prove that your services' resilience patterns hold: bring up a compose stack, drive "
        "Locust load, inject faults through Toxiproxy and Docker on a timeline, and judge "
        "expectations per window (baseline, fault, recovery).\n\n"
        "Exit codes: 0 passed, 1 an expectation failed, 2 invalid scenario or usage, "
        "3 inconclusive (harness/environment error, or the baseline was not steady), "
        "4 aborted by an abort condition, 130 interrupted."
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
    "failed": ExitCode.FAILED,
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
    """
    from harness.scenario import load_scenario

    bad = 0
    for file in files:
        try:
            load_scenario(file)
        except ScenarioError as exc:
            bad += 1
            _print_problems(exc.problems)
        else:
            out.print(f"{file}: ok", highlight=False)
    raise typer.Exit(ExitCode.USAGE if bad else ExitCode.PASSED)


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="The scenario YAML file.")],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Report directory [default: reports/<run-id>].")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Seed for every random choice (overrides the scenario's).")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", metavar="KEY.PATH=VALUE",
        help="Override a scenario field, e.g. --set target.profile=naive or --set faults.0.latency_ms=300. Repeatable.",
    )] = None,
) -> None:
    """Run a scenario: stack up, load, faults on schedule, teardown, then report.json and report.md.

    Example: [bold]harness run scenarios/quickstart.yaml --set target.profile=naive[/]

    Exit code 0 when every expectation held, 1 when one failed, 2 for an invalid scenario
    (nothing is started), 3 when the run is inconclusive (the harness or the environment
    failed, or the baseline broke the steady state), 4 when an abort condition tripped, 130
    when interrupted. Containers are removed in every case.
    """
    from harness.run import execute
    from harness.scenario import load_scenario

    try:
        loaded = load_scenario(scenario, set_ or [])
    except ScenarioError as exc:
        _print_problems(exc.problems)
        raise typer.Exit(ExitCode.USAGE) from None
    result = execute(loaded, out_dir=out_dir, seed=seed, console=err)
    report = result.report
    for exp in report.expectations:
        mark = "[green]held[/]  " if exp.held else "[red]FAILED[/]"
        err.print(f"{mark} {exp.name}: {exp.explanation}", highlight=False, soft_wrap=True)
    colour = {"passed": "green", "failed": "red"}.get(report.status, "yellow")
    err.print(f"[bold {colour}]{report.status.upper()}[/]" + (f": {report.error}" if report.error else ""),
              highlight=False, soft_wrap=True)
    out.print(f"report: {result.paths['json']}", highlight=False, soft_wrap=True)
    out.print(f"report: {result.paths['md']}", highlight=False, soft_wrap=True)
    raise typer.Exit(_STATUS_EXIT[report.status])


@app.command()
def faults(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List every fault kind: its parameters with units and defaults, the real failure it
    simulates, and the section of the seed documents it comes from."""
    import json

    from rich.table import Table

    from harness.faults.registry import COMMON_PARAMETERS, describe_kinds

    kinds = describe_kinds()
    if as_json:
        typer.echo(json.dumps({"common": COMMON_PARAMETERS, "kinds": kinds}, indent=2, default=str))
        return
    table = Table(title="fault kinds (every kind also takes: " + ", ".join(COMMON_PARAMETERS) + ")",
                  show_lines=True, title_justify="left")
    for column in ("kind", "parameters", "simulates", "seed"):
        table.add_column(column, overflow="fold")
    for k in kinds:
        params = "\n".join(
            f"{p['name']}" + (f" ({p['unit']})" if p["unit"] else "")
            + (" (required)" if p["required"] else f" = {p['default']}")
            for p in k["parameters"]  # type: ignore[union-attr]
        )
        table.add_row(str(k["kind"]), params, str(k["summary"]), str(k["seed_section"]))
    out.print(table)


@app.command()
def doctor() -> None:
    """Check the prerequisites (engine, compose v2, images, Toxiproxy, free disk): ok or the fix."""
    from harness.environment.doctor import run_checks

    checks = run_checks()
    for check in checks:
        mark = "[green]ok  [/]" if check.ok else "[red]FAIL[/]"
        out.print(f"{mark} {check.name:<10} {check.detail}", highlight=False)
    raise typer.Exit(ExitCode.PASSED if all(c.ok for c in checks) else ExitCode.ERROR)


def main() -> None:
    """Console-script entry point."""
    app()
