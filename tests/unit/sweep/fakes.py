"""A fake ``execute`` for sweep tests: a run whose product p99 is a model of the catalog's
latency (``latency_ms + base_ms``), judged against the quickstart's 1000 ms bound, so the
breaking point is known exactly (``1000 - base_ms``)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.checks import ExpectationResult
from harness.run import RunResult
from tests.unit.report.conftest import make_report

P99_NAME = "product p99 bounded while catalog is slow"


class ModelExecute:
    """Records each call (out_dir, seed, the latency, shared) and returns a report whose p99 is
    ``latency_ms + base_ms``; ``statuses`` forces a status per call (e.g. ``inconclusive``)."""

    def __init__(self, base_ms: float = 12.0, statuses: dict[int, str] | None = None):
        self.base_ms = base_ms
        self.statuses = statuses or {}
        self.calls: list[tuple[Path, int | None, int, object]] = []
        self.more_runs: list[bool | None] = []
        """The shared stack's ``more_runs`` when each cell started (None without one)."""

    def __call__(self, loaded, out_dir=None, seed=None, console=None, strict=False, shared=None):  # noqa: ANN001
        latency = loaded.scenario.faults[0].latency_ms
        self.calls.append((out_dir, seed, latency, shared))
        self.more_runs.append(getattr(shared, "more_runs", None))
        p99 = latency + self.base_ms
        forced = self.statuses.get(len(self.calls))
        held = p99 < 1000
        result = ExpectationResult(P99_NAME, held and forced != "inconclusive", p99, 1000.0, "<",
                                   "fault:catalog-slow", "p99_ms", f"p99 {p99}", inconclusive=forced == "inconclusive")
        status = forced or ("passed" if held else "failed")
        report = make_report(expectations=[result], status=status, seed=seed if seed is not None else 42)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.json").write_text(report.model_dump_json())
        return RunResult(report, out_dir, {"json": out_dir / "report.json"})


def write_json(sweep, out: Path) -> dict[str, Path]:  # noqa: ANN001
    """The sweep's JSON only (the renderings are tested with the report package)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "sweep.json"
    path.write_text(json.dumps(sweep.model_dump(mode="json")))
    return {"json": path}
