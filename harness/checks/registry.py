"""The judges of the checks: every check module of this package, plus the ones third-party
packages add through the ``harness.checks`` entry-point group (their specs register apart,
through ``harness.check_specs``: :mod:`harness.scenario.checks.registry`), and
:func:`evaluate`, which judges a scenario's expectations with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.checks.base import ExpectationResult, Judge
from harness.plugins import Registry, spec_name
from harness.scenario.checks import CheckSpec

if TYPE_CHECKING:
    from harness.analysis.evidence import Evidence

ENTRY_POINT_GROUP = "harness.checks"
"""Entry-point group of third-party judges (each entry names a module that registers one)."""

JUDGES: Registry[type[Judge]] = Registry("harness.checks", {"base", "registry"}, ENTRY_POINT_GROUP, "check judge")
"""Check name -> judge class."""


def register_judge(judge_type: type[Judge]) -> type[Judge]:
    """Class decorator: register ``judge_type`` under the ``check`` name of its ``spec_type``.

    Raises:
        TypeError: no ``spec_type`` that is a :class:`CheckSpec` with a string ``check``
            default, or another judge holds the name (both modules named).
    """
    owner = f"judge {judge_type.__module__}.{judge_type.__name__}"
    return JUDGES.add(spec_name(getattr(judge_type, "spec_type", None), CheckSpec, "check", owner), judge_type)


def judge_names() -> list[str]:
    """Sorted names of every check that has a judge."""
    return JUDGES.names()


def judge_for(spec: CheckSpec) -> Judge:
    """The judge of ``spec``, built from it.

    Raises:
        KeyError: no judge is registered for ``spec.check`` (a spec plugin without its judge).
    """
    return JUDGES.get(spec.check)(spec)


def evaluate(expectations: list[CheckSpec], evidence: Evidence) -> list[ExpectationResult]:
    """One or more verdicts per expectation, in order (a selector matching several windows
    yields one per window; a selector matching none yields an inconclusive verdict).

    Raises:
        KeyError: an expectation's check has no judge.
    """
    results: list[ExpectationResult] = []
    for spec in expectations:
        results.extend(judge_for(spec).judge(evidence))
    return results


__all__ = ["ENTRY_POINT_GROUP", "JUDGES", "evaluate", "judge_for", "judge_names", "register_judge"]
