"""harness.lazy: a package's names imported on first use. ``harness sweep`` must start its first
cell without pandas or matplotlib (they load in the run's health wait, as for ``harness run``):
importing them up front cost every sweep about 1.3 s before anything started."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from harness.lazy import lazy_getattr


def test_a_sweep_starts_without_pandas_or_matplotlib():
    code = ("import sys, harness.cli, harness.sweep, harness.run, harness.report.sweep, harness.report.status; "
            "from harness.sweep.orchestrate import SweepOptions, _writers; "
            "write, after_cell = _writers(SweepOptions(path=None, overrides=[]), None); "  # as run_grid does before cell 1
            "print('pandas' in sys.modules, 'matplotlib' in sys.modules, callable(write) and callable(after_cell))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False", "True"], out.stderr


def test_the_compose_probe_starts_before_the_docker_sdk_and_the_scenario_models_load():
    """``harness run`` imports harness.environment.compose on its first line to start compose's
    version probe; the package must not load the Docker SDK and pydantic's models first."""
    code = ("import sys, harness.cli, harness.environment.compose; "
            "print('docker' in sys.modules, 'harness.scenario.models' in sys.modules, 'pydantic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False", "False"], out.stderr


def test_the_environment_packages_names_are_the_modules_own():
    import harness.environment as environment
    from harness.environment.containers import docker_client
    from harness.environment.labels import RUN_LABEL
    from harness.environment.stack import Stack

    assert environment.Stack is Stack and environment.docker_client is docker_client
    assert environment.RUN_LABEL == RUN_LABEL
    assert sorted(environment.LAZY) == sorted(environment.__all__)


def test_the_report_packages_names_are_the_modules_own():
    import harness.report as report
    import harness.report.sweep as sweep
    from harness.report.build import build_report
    from harness.report.sweep.store import write_sweep

    assert report.build_report is build_report and sweep.write_sweep is write_sweep


def test_a_name_is_imported_once_then_kept_and_an_unknown_one_is_an_attribute_error(monkeypatch):
    package = types.ModuleType("fake_package")
    monkeypatch.setitem(sys.modules, "fake_package", package)
    package.__getattr__ = lazy_getattr("fake_package", {"dumps": "json"})
    import json

    assert package.dumps is json.dumps
    assert "dumps" in vars(package)  # kept: the next use is a plain lookup
    with pytest.raises(AttributeError, match="no attribute 'loads'"):
        package.loads  # noqa: B018
