"""The two halves of every fault kind and check: a spec (harness.scenario) and an injector or a
judge (harness.faults, harness.checks), registered apart, each half also open to third-party
plugins through its own entry-point group."""

from __future__ import annotations

import subprocess
import sys
from typing import Literal

import pytest

from harness import plugins
from harness.checks import Judge, judge_names
from harness.checks.registry import JUDGES, judge_for, register_judge
from harness.faults import Fault, fault_kinds
from harness.faults.registry import FAULTS, register
from harness.plugins import Registry
from harness.scenario.checks import CheckSpec, check_names
from harness.scenario.checks.registry import CHECK_SPECS, register_check_spec
from harness.scenario.faults import FaultSpec
from harness.scenario.faults import fault_kinds as spec_kinds
from harness.scenario.faults.registry import FAULT_SPECS, register_fault_spec


def test_every_fault_kind_has_a_spec_and_an_injector():
    assert spec_kinds() == fault_kinds()
    assert len(fault_kinds()) >= 20


def test_every_check_has_a_spec_and_a_judge():
    assert sorted(check_names()) == judge_names()
    assert check_names()[0] == "threshold"


def test_reading_a_scenario_imports_no_injector_and_no_judge():
    """What a scenario file may say is known from specs alone: validating one in a fresh
    interpreter loads no module of harness.faults, harness.checks, harness.environment or Docker."""
    code = ("import sys\n"
            "from harness.scenario.models import Scenario\n"
            "Scenario.model_validate({'name': 's', 'mode': 'measure', 'proxies': [{'name': 'db', 'upstream': 'db:5432'}],"
            " 'load': {'host': 'http://lb:8080', 'duration_s': 60, 'requests': [{'path': '/'}]},"
            " 'faults': [{'kind': 'latency', 'proxy': 'db', 'latency_ms': 100, 'at_s': 1, 'duration_s': 2},"
            " {'kind': 'kill', 'service': 'api', 'at_s': 5, 'duration_s': 2}],"
            " 'expectations': [{'check': 'retry', 'max_error_rate': 0.01}]})\n"
            "engine = sorted(m for m in sys.modules if m.split('.')[:2] in (['harness', 'faults'], ['harness', 'checks'],"
            " ['harness', 'environment']) or m == 'docker' or m == 'locust')\n"
            "print(engine)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_spec_registry_rejects_a_kind_without_a_name_or_taken_twice():
    class Nameless(FaultSpec):
        kind: str = ""

    with pytest.raises(TypeError, match="kind needs a string default"):
        register_fault_spec(Nameless)

    class Again(FaultSpec):
        kind: Literal["latency"] = "latency"

    with pytest.raises(TypeError, match="registered twice"):
        register_fault_spec(Again)
    with pytest.raises(TypeError, match="not a FaultSpec"):
        register_fault_spec(CheckSpec)  # type: ignore[arg-type]


def test_an_injector_and_a_judge_need_a_registered_kind_of_spec():
    class NoSpec(Fault):
        def inject(self):
            return []

        def revert(self):
            return []

    with pytest.raises(TypeError, match="has no spec_type"):
        register(NoSpec)

    class Stray(Judge):
        spec_type = CheckSpec

        def judge_window(self, evidence, window):
            raise AssertionError

    with pytest.raises(TypeError, match="check needs a string default"):
        register_judge(Stray)
    with pytest.raises(TypeError, match="check needs a string default"):
        register_check_spec(CheckSpec)


def test_a_spec_plugin_without_its_judge_is_named(monkeypatch):
    class Canary(CheckSpec):
        check: Literal["canary"] = "canary"

    monkeypatch.setitem(CHECK_SPECS._items, "canary", Canary)
    assert "canary" in check_names() and "canary" not in judge_names()
    with pytest.raises(KeyError):
        judge_for(Canary())


class _EntryPoint:
    def __init__(self, name: str, load):
        self.name, self.value, self.load = name, f"plugin_pkg.{name}", load


def test_plugins_of_each_group_are_loaded_once_and_a_broken_one_is_reported(monkeypatch):
    loaded: list[str] = []
    groups = {"demo.specs": [_EntryPoint("ok", lambda: loaded.append("ok"))],
              "demo.broken": [_EntryPoint("bad", lambda: 1 / 0)]}
    monkeypatch.setattr(plugins, "entry_points", lambda group: groups.get(group, []))
    registry: Registry[type] = Registry("harness.scenario.checks", {"base", "registry"}, "demo.specs", "thing")
    assert registry.names() == [] and loaded == ["ok"]  # the package's own modules register elsewhere
    registry.names()
    assert loaded == ["ok"]
    broken: Registry[type] = Registry("harness.scenario.checks", {"base", "registry"}, "demo.broken", "thing")
    with pytest.raises(TypeError, match=r"plugin 'bad' \(plugin_pkg.bad\) of demo.broken failed to load"):
        broken.names()


def test_each_half_has_its_own_entry_point_group():
    groups = {FAULT_SPECS.entry_point_group, FAULTS.entry_point_group, CHECK_SPECS.entry_point_group,
              JUDGES.entry_point_group}
    assert groups == {"harness.fault_specs", "harness.faults", "harness.check_specs", "harness.checks"}
