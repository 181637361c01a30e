"""A sweep's report: ``sweep.json`` (:mod:`~harness.report.sweep.model`) and its renderings."""

from harness.report.sweep.model import (
    SWEEP_SCHEMA_VERSION,
    CellExpectation,
    SearchResult,
    Sweep,
    SweepCell,
    Value,
    Varied,
)

__all__ = ["SWEEP_SCHEMA_VERSION", "CellExpectation", "SearchResult", "Sweep", "SweepCell", "Value", "Varied"]
