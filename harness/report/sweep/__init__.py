"""A sweep's report: ``sweep.json`` (:mod:`~harness.report.sweep.model`, the source of truth) and
its renderings ``sweep.md`` and ``sweep.html`` (:mod:`~harness.report.sweep.render`, with the plots
of :mod:`~harness.report.sweep.plots`), written and read by :mod:`~harness.report.sweep.store`."""

from harness.report.sweep.model import (
    SWEEP_SCHEMA_VERSION,
    CellExpectation,
    SearchResult,
    Sweep,
    SweepCell,
    Value,
    Varied,
)
from harness.report.sweep.render import render_sweep_html, render_sweep_md
from harness.report.sweep.store import is_sweep, load_sweep, regenerate_sweep, sweep_file, write_sweep

__all__ = ["SWEEP_SCHEMA_VERSION", "CellExpectation", "SearchResult", "Sweep", "SweepCell", "Value", "Varied",
           "is_sweep", "load_sweep", "regenerate_sweep", "render_sweep_html", "render_sweep_md", "sweep_file",
           "write_sweep"]
