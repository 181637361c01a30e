"""The prepare phase: preflight first, then the run's id, seed and directory, its journal and
ledger, and ``run.start``; a failing preflight or an unwritable directory starts nothing."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from harness import __version__
from harness.errors import OutputDirError, ScenarioError
from harness.run import prepare as prepare_module
from harness.run.prepare import choose_seed, new_run_id, prepare
from harness.scenario import load_scenario
from tests.unit.run import fakes


@pytest.fixture
def loaded():
    return load_scenario(fakes.QUICKSTART)


@pytest.fixture
def preflight(monkeypatch):
    seen = []
    monkeypatch.setattr(prepare_module, "check_services", lambda loaded, config=None, project=None: seen.append(loaded) or {"services": {}})
    return seen


def test_it_journals_run_start_into_a_fresh_run_directory(tmp_path, loaded, preflight):
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.json").write_text("{}")  # an earlier run's file: replaced, never mixed in
    run = prepare(loaded, out, seed=None)
    assert preflight == [loaded] and run.run_dir == out.resolve() and not (out / "report.json").exists()
    assert re.fullmatch(r"\d{8}t\d{6}z-[0-9a-f]{6}", run.run_id) and run.seed == 42
    [start] = fakes.events(run.journal)
    assert (start["event"], start["run_id"], start["seed"], start["scenario"]) == ("run.start", run.run_id, 42,
                                                                                 "quickstart")
    assert start["scenario_sha256"] == loaded.sha256 and start["environment"]["harness"] == __version__
    assert run.started_t == pytest.approx(start["t"], abs=1e-3) and run.compose_config == {"services": {}}


def test_a_failing_preflight_writes_nothing(tmp_path, loaded, monkeypatch):
    def refuse(loaded, config=None, project=None):
        raise ScenarioError(["quickstart.yaml:1:1: target.compose: no such file"])

    monkeypatch.setattr(prepare_module, "check_services", refuse)
    with pytest.raises(ScenarioError):
        prepare(loaded, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_an_unwritable_run_directory_is_refused_before_anything_starts(tmp_path, loaded, preflight):
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputDirError, match="cannot write the run's files there"):
        prepare(loaded, tmp_path / "file")


def test_the_seed_comes_from_the_caller_then_the_scenario_then_chance(loaded):
    assert choose_seed(loaded, 7) == 7 and choose_seed(loaded, None) == 42
    unseeded = SimpleNamespace(scenario=SimpleNamespace(seed=None))
    drawn = {choose_seed(unseeded, None) for _ in range(5)}  # type: ignore[arg-type]
    assert all(0 <= s < 2**31 for s in drawn) and len(drawn) > 1


def test_run_ids_sort_by_time_and_differ():
    from datetime import datetime, timezone

    early = new_run_id(datetime(2026, 1, 1, tzinfo=timezone.utc))
    late = new_run_id(datetime(2026, 1, 2, tzinfo=timezone.utc))
    assert early < late and early.startswith("20260101t000000z-") and early != new_run_id(datetime(2026, 1, 1, tzinfo=timezone.utc))


def test_a_shared_stacks_config_is_checked_without_resolving_the_file_again(loaded, monkeypatch):
    from harness.run import preflight as preflight_module

    def no_compose(*_args, **_kw):
        raise AssertionError("compose config ran although the shared stack's config was given")

    monkeypatch.setattr(preflight_module, "resolve_compose", no_compose)
    services = {name: {"image": "x"} for name in ("toxiproxy", "lb", "api", "catalog", "db")}
    config = {"services": services}
    assert preflight_module.check_services(loaded, config) is config
    with pytest.raises(ScenarioError, match="no service"):  # the checks still run against it
        preflight_module.check_services(loaded, {"services": {"toxiproxy": {"image": "x"}}})
