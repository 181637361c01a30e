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
            "print('pandas' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["False", "False"], out.stderr


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
