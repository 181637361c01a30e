"""The pytest plugin, through a real ``python -m pytest`` in a subprocess (so the ``pytest11``
entry point is what loads it): each scenario file is one item; failed expectations fail it
with their explanations; ``--junitxml`` has one testcase per scenario. ``harness.run.execute``
is replaced by a fake in the inner session's conftest (no Docker here)."""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib.metadata import entry_points
from pathlib import Path

import pytest


SCENARIO = """\
version: 1
name: {name}
target: {{compose: {compose}, profile: {profile}}}
load:
  host: http://lb:8080
  duration_s: 20
  requests:
    - {{name: "GET /products/{{id}}", path: "/products/1"}}
faults:
  - {{name: catalog-slow, kind: kill, service: catalog, at_s: 5, duration_s: 5}}
expectations:
  - {{name: product p99 bounded, window: "fault:catalog-slow", metric: p99_ms, "<": 1000}}
"""

CONFTEST = """\
# Module level on purpose: the plugin's items are not pytest Functions, so fixtures (autouse
# included) never run for them; and this is a separate process, so nothing leaks.
import harness.pytest_plugin as plugin
from harness.checks import ExpectationResult
from harness.report.model import Report, ScenarioInfo
from harness.run import RunResult


def execute(loaded, out_dir=None, seed=None, console=None):
    s = loaded.scenario
    held = s.target.profile == "resilient"
    observed = 400.0 if held else 1879.0
    exp = ExpectationResult("product p99 bounded", held, observed, 1000.0, "<", "fault:catalog-slow", "p99_ms",
                            "p99_ms was %g in fault:catalog-slow; it had to be below 1000, so the expectation %s."
                            % (observed, "held" if held else "failed"))
    report = Report(run_id="r-" + s.name, seed=seed or 0, scenario=ScenarioInfo(name=s.name, path="", sha256=""),
                    status="passed" if held else "failed", started_at="x", ended_at="y", expectations=[exp])
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "seen").write_text(repr((s.load.duration_s, seed)))
    return RunResult(report, out_dir, {"html": out_dir / "report.html"})


plugin.execute = execute
"""


def test_the_plugin_is_registered_under_pytest11():
    names = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert names.get("harness") == "harness.pytest_plugin"


@pytest.fixture
def project(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    compose = tmp_path / "absent-compose.yml"  # were the fake not in place, the preflight stops a real run
    (scenarios / "shop-resilient.yaml").write_text(SCENARIO.format(name="shop-resilient", compose=compose,
                                                                   profile="resilient"))
    (scenarios / "shop-naive.yml").write_text(SCENARIO.format(name="shop-naive", compose=compose, profile="naive"))
    (scenarios / "broken.yaml").write_text("version: 1\nname: broken\nload: {duration_s: -1}\n")
    (scenarios / "not-a-scenario.yaml").write_text("just: data\n")
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_plain.py").write_text("def test_plain():\n    assert True\n")
    return tmp_path


def pytest_in(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA", *args],
                          cwd=project, capture_output=True, text=True, timeout=120)


def test_each_scenario_is_one_item_and_failed_expectations_fail_it(project):
    junit = project / "junit.xml"
    proc = pytest_in(project, "--harness-scenarios", "scenarios", f"--junitxml={junit}",
                     "--harness-set", "load.duration_s=15", "--harness-seed", "7", "--harness-out", "out")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "1 passed" in out and "2 failed" in out, out  # test_plain.py is not collected: scenarios only
    assert "shop-naive: failed" in out
    assert "FAILED product p99 bounded: p99_ms was 1879 in fault:catalog-slow" in out
    assert "invalid scenario" in out and "broken.yaml" in out

    cases = ET.parse(junit).getroot().findall(".//testcase")
    assert sorted(c.get("name") for c in cases) == ["broken", "shop-naive", "shop-resilient"]
    naive = next(c for c in cases if c.get("name") == "shop-naive")
    assert "p99_ms was 1879" in naive.find("failure").get("message")
    props = {p.get("name"): p.get("value") for p in naive.iter("property")}
    assert props["harness_status"] == "failed" and props["harness_run_dir"].endswith("out/shop-naive")
    assert (project / "out" / "shop-resilient" / "seen").read_text() == "(15.0, 7)"  # --harness-set, --harness-seed


def test_with_explicit_paths_both_tests_and_scenarios_are_collected(project):
    proc = pytest_in(project, "test_plain.py", "--harness-scenarios", "scenarios", "--collect-only")
    assert "4 tests collected" in proc.stdout, proc.stdout + proc.stderr


def test_without_the_option_no_yaml_is_collected(project):
    proc = pytest_in(project, "--collect-only")
    assert "1 test collected" in proc.stdout, proc.stdout + proc.stderr


HOSTILE_SCENARIOS = {
    "recursive.yaml": b"name: r\nload: &l [*l]\n",
    "deep.yaml": b"name: d\nload: " + b"[" * 20000 + b"]" * 20000 + b"\n",
    "binary.yaml": b"load: x\n" + bytes(range(256)),
    "utf16.yaml": "name: u\nload: {users: many}\n".encode("utf-16"),
    "controls.yaml": b"name: c\x1b[31m\nload: {}\n",
}


def test_hostile_scenario_files_fail_their_item_with_one_located_line(tmp_path):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    for name, data in HOSTILE_SCENARIOS.items():
        (scenarios / name).write_bytes(data)
    proc = pytest_in(tmp_path, "--harness-scenarios", "scenarios")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert f"{len(HOSTILE_SCENARIOS)} failed" in out, out
    for name in HOSTILE_SCENARIOS:
        assert re.search(rf"scenarios/{re.escape(name)}:\d+:\d+: ", out), (name, out)
    assert "recursive alias" in out and "nested deeper than 64 levels" in out and "U+001B" in out
    assert "Traceback" not in out and "RecursionError" not in out
