"""run_grid and run_search with a fake execute (a run whose p99 is the catalog's latency plus a
base): the cells, their verdicts, the sweep's status, the shared stack handed to every cell,
sweep.json rewritten after each cell, and Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli import app
from harness.errors import ScenarioError
from harness.run.shared import SharedStack
from harness.sweep import SweepOptions, parse_search, parse_vary, run_grid, run_search
from tests.unit.sweep.fakes import P99_NAME, ModelExecute, write_json

QUICKSTART = Path(__file__).resolve().parents[3] / "scenarios" / "quickstart.yaml"


def options(tmp_path: Path, execute, **kw) -> SweepOptions:  # noqa: ANN001
    return SweepOptions(QUICKSTART, ["load.duration_s=75"], out_dir=tmp_path, execute=execute, write=write_json, **kw)


def test_a_grid_runs_every_cell_on_one_shared_stack_and_reports_each(tmp_path):
    fake, seen, starts = ModelExecute(), [], []
    sweep, paths = run_grid(options(tmp_path, fake, on_cell=lambda c, n: seen.append((c.index, n)),
                                    on_start=lambda i, values, n: starts.append((i, values["load.users"], n))),
                            [parse_vary("faults.0.latency_ms=250,1000,4000"), parse_vary("load.users=5,20")])
    assert [c[2] for c in fake.calls] == [250, 250, 1000, 1000, 4000, 4000]
    assert [c[0] for c in fake.calls] == [tmp_path / f"cell-{i:02d}" for i in range(1, 7)]
    shared = {id(c[3]) for c in fake.calls}
    assert len(shared) == 1 and isinstance(fake.calls[0][3], SharedStack) and sweep.shared_stack
    assert {c[1] for c in fake.calls} == {42}  # the scenario's seed in every cell
    assert seen == [(i, 6) for i in range(1, 7)]
    assert starts == [(1, 5, 6), (2, 20, 6), (3, 5, 6), (4, 20, 6), (5, 5, 6), (6, 20, 6)]
    assert [c.values for c in sweep.cells][:2] == [{"faults.0.latency_ms": 250, "load.users": 5},
                                                   {"faults.0.latency_ms": 250, "load.users": 20}]
    p99 = [c.expectation(P99_NAME) for c in sweep.cells]
    assert [e.observed for e in p99] == [262, 262, 1012, 1012, 4012, 4012]
    assert [e.verdict for e in p99] == ["held", "held", "failed", "failed", "failed", "failed"]
    assert sweep.status == "failed" and sweep.reason == "4 of 6 cells failed"
    written = json.loads(paths["json"].read_text())
    assert len(written["cells"]) == 6 and written["status"] == "failed"


def test_a_grid_whose_cells_all_hold_passes_and_a_stack_change_gets_fresh_stacks(tmp_path):
    fake = ModelExecute()
    opts = options(tmp_path, fake)
    opts.overrides.append("faults.0.latency_ms=300")
    sweep, _ = run_grid(opts, [parse_vary("target.profile=naive,resilient")])
    assert sweep.status == "passed" and not sweep.shared_stack
    assert [c[3] for c in fake.calls] == [None, None]


def test_an_inconclusive_cell_makes_the_grid_inconclusive(tmp_path):
    sweep, _ = run_grid(options(tmp_path, ModelExecute(statuses={2: "inconclusive"})),
                        [parse_vary("faults.0.latency_ms=100,200")])
    assert sweep.status == "inconclusive"
    assert [c.expectation(P99_NAME).verdict for c in sweep.cells] == ["held", "inconclusive"]


def test_ctrl_c_between_cells_reports_the_cells_done(tmp_path):
    fake = ModelExecute()

    def interrupt_after_two(loaded, **kw):  # noqa: ANN001
        if len(fake.calls) == 2:
            raise KeyboardInterrupt
        return fake(loaded, **kw)

    sweep, paths = run_grid(options(tmp_path, interrupt_after_two), [parse_vary("faults.0.latency_ms=100,200,300")])
    assert sweep.status == "interrupted" and sweep.reason == "interrupted after 2 of 3 cells"
    assert len(json.loads(paths["json"].read_text())["cells"]) == 2


def test_a_bad_cell_stops_the_sweep_before_anything_runs(tmp_path):
    fake = ModelExecute()
    with pytest.raises(ScenarioError, match="cell faults.0.latency_ms=oops"):
        run_grid(options(tmp_path, fake), [parse_vary("faults.0.latency_ms=100,oops")])
    assert fake.calls == [] and not (tmp_path / "sweep.json").exists()


def test_a_search_finds_the_breaking_point_of_the_named_expectation(tmp_path):
    fake = ModelExecute(base_ms=12)
    sweep, _ = run_search(options(tmp_path, fake), parse_search("faults.0.latency_ms=250..4000"), P99_NAME, 0.05)
    result = sweep.search
    assert result.outcome == "found" and sweep.status == "measured"
    assert result.holds_at < 988 <= result.breaks_at and result.breaks_at - result.holds_at <= 0.05 * result.holds_at
    assert [c[2] for c in fake.calls][:3] == [250, 4000, 1000]
    assert len(sweep.cells) == result.steps == len(fake.calls)
    assert sweep.varied[0].values == [250, 4000] and sweep.mode == "search"
    assert "breaks between" in sweep.reason


def test_a_search_step_without_a_verdict_is_inconclusive(tmp_path):
    sweep, _ = run_search(options(tmp_path, ModelExecute(statuses={3: "inconclusive"})),
                          parse_search("faults.0.latency_ms=250..4000"), P99_NAME, 0.05)
    assert sweep.search.outcome == "inconclusive" and sweep.status == "inconclusive"
    assert sweep.search.holds_at == 250 and sweep.search.breaks_at == 4000


def test_a_search_needs_an_expectation_the_scenario_has(tmp_path):
    with pytest.raises(ScenarioError, match="no such expectation"):
        run_search(options(tmp_path, ModelExecute()), parse_search("faults.0.latency_ms=1..2"), "nope", 0.05)


def test_the_cli_maps_the_sweep_status_to_the_exit_code(tmp_path, monkeypatch):
    import harness.run
    monkeypatch.setattr(harness.run, "execute", ModelExecute())
    runner = CliRunner()
    failed = runner.invoke(app, ["sweep", str(QUICKSTART), "--vary", "faults.0.latency_ms=100,2000",
                                 "--out", str(tmp_path / "a")])
    assert failed.exit_code == 1, failed.output
    assert "cell 2 of 2" in failed.output and "FAILED" in failed.output
    assert "cell 2 of 2 faults.0.latency_ms=2000: starting" in failed.output
    assert {"sweep.json", "sweep.md", "sweep.html"} <= {p.name for p in (tmp_path / "a").iterdir()}
    assert "2,012 ✗" in (tmp_path / "a" / "sweep.md").read_text()  # the second cell's p99, failed
    (tmp_path / "a" / "sweep.md").unlink()
    regenerated = runner.invoke(app, ["report", str(tmp_path / "a")])
    assert regenerated.exit_code == 0 and (tmp_path / "a" / "sweep.md").is_file(), regenerated.output
    passed = runner.invoke(app, ["sweep", str(QUICKSTART), "--vary", "faults.0.latency_ms=100,200",
                                 "--out", str(tmp_path / "b")])
    assert passed.exit_code == 0, passed.output
    search = runner.invoke(app, ["sweep", str(QUICKSTART), "--search", "faults.0.latency_ms=250..4000",
                                 "--expectation", P99_NAME, "--out", str(tmp_path / "c")])
    assert search.exit_code == 0 and "MEASURED" in search.output
    for args in (["--vary", "x=1", "--search", "x=1..2"], [], ["--search", "x=1..2"], ["--vary", "x=1", "--expectation", "e"]):
        usage = runner.invoke(app, ["sweep", str(QUICKSTART), *args])
        assert usage.exit_code == 2 and "either --vary" in usage.output


def test_sigterm_between_cells_ends_the_sweep_like_ctrl_c_and_puts_the_handlers_back(tmp_path, restore_signal_handlers):
    import os
    import signal

    fake = ModelExecute()

    def terminated_after_one(loaded, **kw):  # noqa: ANN001
        if fake.calls:
            os.kill(os.getpid(), signal.SIGTERM)  # as if between cells
        return fake(loaded, **kw)

    sweep, _ = run_grid(options(tmp_path, terminated_after_one), [parse_vary("faults.0.latency_ms=100,200,300")])
    assert sweep.status == "interrupted" and len(sweep.cells) == 1
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_only_a_grids_last_cell_is_told_no_run_follows_it(tmp_path):
    """The last cell takes the shared stack down itself and spawns no Locust child ahead."""
    fake = ModelExecute()
    run_grid(options(tmp_path, fake), [parse_vary("faults.0.latency_ms=250,1000,4000")])
    assert fake.more_runs == [True, True, False]
    repeated = ModelExecute()
    run_grid(options(tmp_path / "x2", repeated, repeat=2), [parse_vary("faults.0.latency_ms=250,1000")])
    assert set(repeated.more_runs) == {True}  # the last cell's first repeat has another after it


class FakePages:
    """IdleReports' calls, recorded."""

    def __init__(self):
        self.calls = []

    def submit(self, run_dir):
        self.calls.append(("submit", run_dir))

    def cancel(self, run_dir):
        self.calls.append(("cancel", run_dir))

    def finish(self):
        self.calls.append(("finish", None))
        return []


def test_after_a_cell_sweep_json_and_md_are_written_and_the_page_left_to_an_idle_child(tmp_path):
    from harness.sweep.orchestrate import _writers

    pages = FakePages()
    sweep, _ = run_grid(options(tmp_path / "model", ModelExecute()), [parse_vary("faults.0.latency_ms=100,200")])
    final, after_cell = _writers(SweepOptions(QUICKSTART, []), pages)
    paths = after_cell(sweep, tmp_path / "out")
    assert sorted(paths) == ["json", "md"] and not (tmp_path / "out" / "sweep.html").exists()
    assert pages.calls == [("submit", tmp_path / "out")]
    assert sorted(final(sweep, tmp_path / "final")) == ["html", "json", "md"]


def test_the_end_of_the_cells_cancels_the_sweeps_own_page_then_waits_for_the_cells(tmp_path):
    from harness.sweep.orchestrate import _close

    pages = FakePages()
    _close(None, {}, pages, tmp_path)
    assert pages.calls == [("cancel", tmp_path), ("finish", None)]


def test_a_real_grid_ends_with_its_page_written_and_no_child_left(tmp_path, monkeypatch):
    """The default writers, with real idle children: sweep.html is the final in-process one."""
    from harness.run import idle_reports

    made = []
    real = idle_reports.IdleReports

    class Recording(real):
        def __init__(self):
            super().__init__()
            made.append(self)

    monkeypatch.setattr("harness.sweep.orchestrate.IdleReports", Recording)
    sweep, paths = run_grid(SweepOptions(QUICKSTART, ["load.duration_s=75"], out_dir=tmp_path, execute=ModelExecute()),
                            [parse_vary("faults.0.latency_ms=100,200")])
    assert sorted(paths) == ["html", "json", "md"]
    assert "cell-02" in paths["html"].read_text()
    assert made and made[0]._pending == []
