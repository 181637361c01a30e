"""Judge every expectation against the run's evidence."""

from __future__ import annotations

from harness.analysis.evidence import Evidence
from harness.checks import CheckSpec, ExpectationResult


def evaluate(expectations: list[CheckSpec], evidence: Evidence) -> list[ExpectationResult]:
    """One or more verdicts per expectation, in order (a selector matching several windows
    yields one per window; a selector matching none yields an inconclusive verdict)."""
    results: list[ExpectationResult] = []
    for exp in expectations:
        results.extend(exp.judge(evidence))
    return results


__all__ = ["ExpectationResult", "evaluate"]
