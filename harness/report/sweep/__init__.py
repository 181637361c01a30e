"""A sweep's report: ``sweep.json`` (:mod:`~harness.report.sweep.model`, the source of truth) and
its renderings ``sweep.md`` and ``sweep.html`` (:mod:`~harness.report.sweep.render`, with the plots
of :mod:`~harness.report.sweep.plots`), written and read by :mod:`~harness.report.sweep.store`."""

from typing import TYPE_CHECKING

from harness.lazy import lazy_getattr
from harness.report.sweep.model import (
    SWEEP_SCHEMA_VERSION,
    CellExpectation,
    SearchResult,
    Sweep,
    SweepCell,
    Value,
    Varied,
)

if TYPE_CHECKING:
    from harness.report.sweep.render import render_sweep_html, render_sweep_md
    from harness.report.sweep.store import is_sweep, load_sweep, regenerate_sweep, sweep_file, write_sweep

LAZY = {"render_sweep_html": "harness.report.sweep.render", "render_sweep_md": "harness.report.sweep.render",
        **{name: "harness.report.sweep.store"
           for name in ("is_sweep", "load_sweep", "regenerate_sweep", "sweep_file", "write_sweep")}}
"""Names imported on first use (PEP 562): the renderers load matplotlib; ``harness sweep``
needs only the model before its first cell (see :data:`harness.report.LAZY`)."""


__getattr__ = lazy_getattr(__name__, LAZY)


__all__ = ["SWEEP_SCHEMA_VERSION", "CellExpectation", "SearchResult", "Sweep", "SweepCell", "Value", "Varied",
           "is_sweep", "load_sweep", "regenerate_sweep", "render_sweep_html", "render_sweep_md", "sweep_file",
           "write_sweep"]
