"""Expectations: plain thresholds and the resilience pattern checks, one module per check.

A check is a frozen pydantic spec (what the scenario says, discriminated by ``check``) with a
``judge(evidence)`` method that returns verdicts explaining themselves with observed numbers.
Checks are pure: they read :class:`harness.analysis.evidence.Evidence`, never Docker.
"""

from harness.checks.base import CheckSpec, ExpectationResult
from harness.checks.registry import check_names, check_spec_types, register_check

__all__ = ["CheckSpec", "ExpectationResult", "check_names", "check_spec_types", "register_check"]
