"""pytest plugin (entry point ``pytest11``: ``harness``): run scenarios as tests.

``pytest --harness-scenarios DIR`` collects every scenario file under ``DIR`` (``*.yaml`` /
``*.yml`` with a top-level ``expectations``, ``load`` or ``faults`` key; other YAML is left
alone) as one test item, which runs the scenario end to end through
:func:`harness.run.execute` and:

- passes when the run passed;
- fails with every failed expectation's explanation when an expectation failed, or with the
  reason when the run was inconclusive, aborted or interrupted (never a pass);
- fails with ``file:line:col`` problems when the scenario is invalid.

pytest's own ``--junitxml`` then reports one testcase per scenario; each item records its run
directory and ``report.html`` as ``user_properties`` (properties in the JUnit XML).

Options: ``--harness-scenarios DIR`` (repeatable; given alone, only the scenarios run, as if
``DIR`` were the only path on the command line; next to explicit paths, both run),
``--harness-out DIR`` (reports go to ``DIR/<scenario file stem>/``; default
``reports/pytest``), ``--harness-set KEY.PATH=VALUE`` (a ``--set`` override applied to every
scenario; repeatable), ``--harness-seed N``.

Loading the plugin costs nothing when the options are unused: harness modules are imported
only when a scenario item runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SCENARIO_SUFFIXES = (".yaml", ".yml")
SCENARIO_KEYS = ("expectations:", "load:", "faults:")


def pytest_addoption(parser: pytest.Parser) -> None:
    """The plugin's command-line options."""
    group = parser.getgroup("harness", "harness scenarios as tests")
    group.addoption("--harness-scenarios", action="append", default=[], metavar="DIR",
                    help="Collect every scenario file under DIR as one test that runs it (repeatable).")
    group.addoption("--harness-out", default="reports/pytest", metavar="DIR",
                    help="Report directory of scenario runs: DIR/<scenario stem>/ (default: reports/pytest).")
    group.addoption("--harness-set", action="append", default=[], metavar="KEY.PATH=VALUE",
                    help="Override a field of every scenario, like harness run --set (repeatable).")
    group.addoption("--harness-seed", type=int, default=None, metavar="N",
                    help="Seed for every scenario run (overrides the scenarios').")


def pytest_configure(config: pytest.Config) -> None:
    """Add the scenario directories to the paths pytest collects from."""
    dirs = [str(Path(d)) for d in config.getoption("harness_scenarios")]
    if not dirs:
        return
    for d in dirs:
        if not Path(d).is_dir():
            raise pytest.UsageError(f"--harness-scenarios {d}: not a directory")
    explicit = config.args_source == pytest.Config.ArgsSource.ARGS
    config.args = [*config.args, *dirs] if explicit else list(dirs)


def _scenario_dirs(config: pytest.Config) -> list[Path]:
    return [Path(d).resolve() for d in config.getoption("harness_scenarios")]


def _looks_like_scenario(path: Path) -> bool:
    """Whether a YAML file's first 64 KiB hold a top-level scenario key. A file that cannot be
    read is collected anyway, so that its item fails with the loader's ``cannot read`` line
    instead of vanishing from the run."""
    from harness.scenario.safe_yaml import BOMS

    try:
        with path.open("rb") as f:
            raw = f.read(65536)
    except OSError:
        return True
    codec = next((name for bom, name in BOMS if raw.startswith(bom)), "utf-8")
    head = raw.decode(codec, errors="replace")
    return any(line.lstrip("\ufeff").startswith(SCENARIO_KEYS) for line in head.splitlines())


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """A scenario file under a ``--harness-scenarios`` directory becomes a :class:`ScenarioFile`."""
    if file_path.suffix not in SCENARIO_SUFFIXES:
        return None
    dirs = _scenario_dirs(parent.config)
    resolved = file_path.resolve()
    if not any(resolved.is_relative_to(d) for d in dirs) or not _looks_like_scenario(file_path):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    """A scenario file: one item."""

    def collect(self) -> list[pytest.Item]:
        """The file's single item, named after the file's stem."""
        return [ScenarioItem.from_parent(self, name=self.path.stem)]


class ScenarioFailed(Exception):
    """The run did not pass; the message lists why (failed expectations, or the error)."""


class ScenarioItem(pytest.Item):
    """Runs one scenario through :func:`harness.run.execute`."""

    def runtest(self) -> None:
        """Load, run, and fail unless the run passed."""
        from harness.errors import ScenarioError
        from harness.scenario import load_scenario

        config = self.config
        try:
            loaded = load_scenario(self.path, list(config.getoption("harness_set")))
        except ScenarioError as exc:
            raise ScenarioFailed("invalid scenario:\n" + "\n".join(exc.problems)) from None
        out = Path(config.getoption("harness_out")) / self.path.stem
        if not out.is_absolute():
            out = Path(config.rootpath) / out
        try:
            result = execute(loaded, out_dir=out, seed=config.getoption("harness_seed"))
        except ScenarioError as exc:
            raise ScenarioFailed("invalid scenario:\n" + "\n".join(exc.problems)) from None
        report = result.report
        self.user_properties.append(("harness_run_dir", str(result.run_dir)))
        self.user_properties.append(("harness_status", report.status))
        if "html" in result.paths:
            self.user_properties.append(("harness_report", str(result.paths["html"])))
        if report.status in ("passed", "measured"):
            return
        lines = [f"{loaded.scenario.name}: {report.status}" + (f": {report.error}" if report.error else "")]
        for e in report.expectations:
            if not e.held:
                lines.append(f"  {'INCONCLUSIVE' if e.inconclusive else 'FAILED'} {e.name}: {e.explanation}")
        lines.append(f"  report: {result.paths.get('html', result.run_dir)}")
        raise ScenarioFailed("\n".join(lines))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """Our message alone for a scenario that did not pass; a traceback for a harness bug."""
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        """Where the item comes from, for pytest's output."""
        return self.path, 0, f"harness scenario: {self.path.name}"


def execute(*args: Any, **kwargs: Any) -> Any:
    """:func:`harness.run.execute`, looked up at call time (tests replace this function)."""
    from harness.run import execute as run_execute

    return run_execute(*args, **kwargs)
