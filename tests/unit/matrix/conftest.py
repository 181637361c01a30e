"""A tagged scenario directory and real report.json files (the project's own Report model, via
tests.unit.report.conftest.make_report) for the matrix tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.checks import ExpectationResult
from harness.report.model import Report, ScenarioInfo
from harness.report.repeat import now_iso
from harness.run.orchestrate import RunResult
from tests.unit.report.conftest import make_report

SCENARIO = """\
version: 1
name: {name}
matrix: {tag}
load:
  host: http://lb:8080
  duration_s: 30
  requests: [{{name: "GET /x", path: /x}}]
faults:
  - {{name: catalog-slow, kind: latency, proxy: catalog, latency_ms: 1500, at_s: 10, duration_s: 10}}
proxies: [{{name: catalog, listen: "0.0.0.0:18080", upstream: "catalog:8080"}}]
expectations:
  - {{name: steady baseline, window: baseline, metric: error_rate, "<": 0.01}}
  - {{name: p99 bounded, window: "fault:catalog-slow", request: "GET /x", metric: p99_ms, "<": 1000}}
"""

NOW_S = 1_767_225_600.0
"""The tests' clock: 2026-01-01T00:00:00Z."""


def write_scenario(directory: Path, name: str, dependency: str = "catalog", failure_mode: str = "slow",
                   key: str | None = None) -> Path:
    """A valid scenario file ``directory/<name>.yaml`` tagged ``dependency`` x ``failure_mode``."""
    tag = f"{{dependency: {dependency}, failure_mode: {failure_mode}" + (f", key: {key}" if key else "") + "}"
    file = directory / f"{name}.yaml"
    directory.mkdir(parents=True, exist_ok=True)
    file.write_text(SCENARIO.format(name=name, tag=tag))
    return file


def verdicts(p99_ms: float, held: bool = True, inconclusive: bool = False) -> list[ExpectationResult]:
    """The scenario's two verdicts: the baseline's, then the fault window's p99 (the default key)."""
    return [ExpectationResult("steady baseline", True, 0.0, 0.01, "<", "baseline", "error_rate", "ok"),
            ExpectationResult("p99 bounded", held and not inconclusive, p99_ms, 1000.0, "<", "fault:catalog-slow",
                              "p99_ms", "p99", request="GET /x", inconclusive=inconclusive)]


def run_report(scenario_file: Path, status: str = "passed", ended_at: str = "2025-12-31T23:00:00.000Z",
               p99_ms: float = 812.0, overrides: list[str] | None = None, sha256: str | None = None,
               run_id: str = "r1") -> Report:
    """A report of ``scenario_file``'s scenario as a run writes it: its name, path, sha256 and
    overrides, ``status`` (its verdicts follow: failed -> the p99 failed), ending at ``ended_at``."""
    name = scenario_file.stem
    report = make_report(name=name, faults=("catalog-slow",),
                         expectations=verdicts(p99_ms, held=status != "failed", inconclusive=status == "inconclusive"))
    info = ScenarioInfo(name=name, path=str(scenario_file), overrides=overrides or [],
                        sha256=sha256 or hashlib.sha256(scenario_file.read_bytes()).hexdigest())
    return report.model_copy(update={"scenario": info, "status": status, "run_id": run_id, "ended_at": ended_at,
                                     "error": None if status in ("passed", "failed") else "something"})


def save(report: Report, run_dir: Path) -> Path:
    """Write ``report`` as ``run_dir/report.json`` (as :func:`harness.report.write_reports` does)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "report.json").write_text(report.model_dump_json(indent=2) + "\n")
    return run_dir


class FakeExecute:
    """Stands in for :func:`harness.run.execute`: records each call and writes a report with
    ``status``, ending now, into the ``out_dir`` it is given (or raises ``raises``)."""

    def __init__(self, status: str = "passed", raises: BaseException | None = None):
        self.status, self.raises, self.calls = status, raises, []

    def __call__(self, loaded, out_dir=None, seed=None, console=None, strict=False) -> RunResult:  # noqa: ANN001
        self.calls.append((loaded.scenario.name, out_dir))
        if self.raises is not None:
            raise self.raises
        report = run_report(loaded.path, status=self.status, ended_at=now_iso(), run_id="fresh")
        save(report, out_dir)
        return RunResult(report, out_dir, {"json": out_dir / "report.json"})


@pytest.fixture
def fake_execute():
    """A :class:`FakeExecute` factory."""
    return FakeExecute
